// Domain events (architecture.md "Domain events"): services publish what happened after their
// transaction commits; realtime fan-out, notifications and webhooks subscribe. In process
// here; the durable path (a pg-boss job written in the same transaction) comes with jobs.
import type { Logger } from 'pino';

export interface DomainEvent<T extends string = string, D = unknown> {
  /** `task.created`, `comment.created` … (api.md names the wire form `task:created`). */
  readonly type: T;
  readonly workspaceId: string;
  readonly projectId?: string;
  readonly actorId: string | null;
  readonly occurredAt: Date;
  readonly data: D;
}

export type EventHandler = (event: DomainEvent) => void | Promise<void>;

export interface EventBus {
  /** Call only after the change has committed. Handlers run later, never inside the caller. */
  publish(events: readonly DomainEvent[]): void;
  /** `'*'` receives everything; returns an unsubscribe function. */
  subscribe(type: string, handler: EventHandler): () => void;
}

export function createEventBus(log: Logger): EventBus {
  const handlers = new Map<string, Set<EventHandler>>();
  const run = (handler: EventHandler, event: DomainEvent) => {
    Promise.resolve()
      .then(() => handler(event))
      .catch((err: unknown) => log.error({ err, eventType: event.type }, 'domain event handler failed'));
  };
  return {
    publish(events) {
      for (const event of events) {
        for (const handler of handlers.get(event.type) ?? []) run(handler, event);
        for (const handler of handlers.get('*') ?? []) run(handler, event);
      }
    },
    subscribe(type, handler) {
      const set = handlers.get(type) ?? new Set<EventHandler>();
      handlers.set(type, set);
      set.add(handler);
      return () => set.delete(handler);
    },
  };
}
