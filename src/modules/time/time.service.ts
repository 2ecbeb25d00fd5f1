// Time tracking: one running timer per user (the database decides, so two starts at once
// cannot both win), manual entries, edits and deletes of one's own entries, and totals per
// task, project and user. Minutes are whole minutes, rounded down; running timers count in no
// total until they stop.
import type { Db } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { conflict, forbidden, notFound } from '../../platform/errors.js';
import type { DomainEvent, EventBus } from '../../platform/events.js';
import type { Actor } from '../../platform/http/context.js';
import { newId } from '../../platform/ids.js';
import { checkProjectAccess, type ProjectAccess } from '../projects/projects.access.js';
import type { TaskWithGrant } from '../tasks/tasks.repository.js';
import type { ProjectAction } from '../workspaces/workspaces.policy.js';
import type { DayRange, EntryWithGrant, TimeEntryPatch, TimeEntryView, TimeRepository } from './time.repository.js';
import { checkRunningStart, patchSpan, resolveSpan, type SpanPatch } from './time.rules.js';

/** What time tracking needs from tasks: a task with the caller's grant. */
export interface TrackedTasks {
  findForMember(taskId: string, userId: string): Promise<TaskWithGrant | undefined>;
}

export interface TimeServiceDeps {
  db: Db;
  entries: TimeRepository;
  tasks: TrackedTasks;
  projectAccess: ProjectAccess;
  events: EventBus;
  clock?: () => Date;
}

export interface ManualEntry {
  startedAt: Date;
  endedAt?: Date;
  minutes?: number;
  note?: string;
}

export type EntryChange = SpanPatch & { note?: string };
interface Page {
  limit: number;
  offset: number;
}

export function createTimeService(deps: TimeServiceDeps) {
  const { db, entries: repo, tasks, projectAccess, events, clock = () => new Date() } = deps;

  const requireTask = async (actor: Actor, taskId: string, action: ProjectAction): Promise<TaskWithGrant> =>
    checkProjectAccess(await tasks.findForMember(taskId, actor.userId), action, 'task');

  /** Someone's own entry: found through its project's access (404 outside it), then 403 when it is another's. */
  async function requireOwnEntry(actor: Actor, entryId: string): Promise<EntryWithGrant> {
    const found = checkProjectAccess(await repo.findForMember(entryId, actor.userId), 'write', 'time entry');
    if (found.entry.userId !== actor.userId) throw forbidden();
    return found;
  }

  const publish = (type: string, actorId: string, entry: TimeEntryView) => {
    const event: DomainEvent<string, { entry: TimeEntryView }> = {
      type,
      workspaceId: entry.workspaceId,
      projectId: entry.projectId,
      actorId,
      occurredAt: clock(),
      data: { entry },
    };
    events.publish([event]);
  };

  const rowFor = (actor: Actor, task: TaskWithGrant['task'], span: Omit<ManualEntry, 'note'>, note: string) => ({
    id: newId(),
    workspaceId: task.workspaceId,
    projectId: task.projectId,
    taskId: task.id,
    userId: actor.userId,
    startedAt: span.startedAt,
    endedAt: span.endedAt ?? null,
    minutes: span.minutes ?? null,
    note,
  });
  const keyOf = ({ task, project }: TaskWithGrant) => `${project.key}-${task.number}`;

  return {
    /** Starts the caller's timer on a task; a timer already running anywhere is a 409 naming its task. */
    async startTimer(actor: Actor, taskId: string, note = ''): Promise<TimeEntryView> {
      const found = await requireTask(actor, taskId, 'write');
      // Twice at most: the running timer may stop between the refused insert and the lookup.
      for (let attempt = 1; ; attempt++) {
        const now = clock();
        const row = await repo.insertRunning(db, rowFor(actor, found.task, { startedAt: now }, note), now);
        if (row) {
          const entry = { ...row, taskKey: keyOf(found) };
          publish('time.started', actor.userId, entry);
          return entry;
        }
        const running = await repo.findRunning(actor.userId);
        if (running) throw conflict(`A timer is already running on ${running.taskKey}: stop it first`);
        if (attempt >= 2) throw conflict('A timer is already running: stop it first');
      }
    },

    async stopTimer(actor: Actor): Promise<TimeEntryView> {
      const running = await repo.findRunning(actor.userId);
      // The timer is the caller's own, wherever it runs: no project check, so a timer in a
      // project since archived (or a workspace since left) can still be stopped.
      const stopped = running && (await repo.stop(db, running.id, clock()));
      if (!running || !stopped) throw notFound('timer');
      const entry = { ...stopped, taskKey: running.taskKey };
      publish('time.stopped', actor.userId, entry);
      return entry;
    },

    async getRunningTimer(actor: Actor): Promise<TimeEntryView> {
      const running = await repo.findRunning(actor.userId);
      if (!running) throw notFound('timer');
      return running;
    },

    async getEntry(actor: Actor, entryId: string): Promise<TimeEntryView> {
      return checkProjectAccess(await repo.findForMember(entryId, actor.userId), 'read', 'time entry').entry;
    },

    /** A finished entry written by hand: a start and either an end or minutes. */
    async logTime(actor: Actor, taskId: string, input: ManualEntry): Promise<TimeEntryView> {
      const found = await requireTask(actor, taskId, 'write');
      const now = clock();
      const row = await repo.insert(db, rowFor(actor, found.task, resolveSpan(input, now), input.note ?? ''), now);
      const entry = { ...row, taskKey: keyOf(found) };
      publish('time.logged', actor.userId, entry);
      return entry;
    },

    /**
     * Changes one's own entry. A running timer may get another start or note; its end comes
     * from stopping it. A finished entry's span follows the rules of time.rules.ts.
     */
    async updateEntry(actor: Actor, entryId: string, change: EntryChange): Promise<TimeEntryView> {
      const found = await requireOwnEntry(actor, entryId);
      const entry = await inTransaction(db, async (tx) => {
        const current = await repo.findView(tx, entryId, { lock: true });
        if (!current) throw notFound('time entry');
        const now = clock();
        const patch: TimeEntryPatch = change.note === undefined ? {} : { note: change.note };
        const spanChanged = change.startedAt !== undefined || change.endedAt !== undefined || change.minutes !== undefined;
        if (current.endedAt === null) {
          if (change.endedAt !== undefined || change.minutes !== undefined) throw conflict('The timer is still running: stop it first');
          if (change.startedAt) {
            checkRunningStart(change.startedAt, now);
            patch.startedAt = change.startedAt;
          }
        } else if (spanChanged) {
          Object.assign(
            patch,
            patchSpan({ startedAt: current.startedAt, endedAt: current.endedAt, minutes: current.minutes ?? 0 }, change, now),
          );
        }
        const updated = await repo.update(tx, entryId, patch, now);
        if (!updated) throw notFound('time entry');
        return { ...updated, taskKey: found.entry.taskKey };
      });
      publish('time.updated', actor.userId, entry);
      return entry;
    },

    /** Deletes one's own entry; deleting a running timer discards it. */
    async deleteEntry(actor: Actor, entryId: string): Promise<void> {
      const { entry } = await requireOwnEntry(actor, entryId);
      if (!(await repo.delete(db, entryId))) throw notFound('time entry');
      publish('time.deleted', actor.userId, entry);
    },

    async listTaskEntries(actor: Actor, taskId: string, page: Page) {
      await requireTask(actor, taskId, 'read');
      return repo.listByTask(taskId, page);
    },

    async taskSummary(actor: Actor, taskId: string) {
      await requireTask(actor, taskId, 'read');
      const users = await repo.perUserOfTask(taskId);
      return { totalMinutes: users.reduce((sum, u) => sum + u.minutes, 0), users };
    },

    async projectSummary(actor: Actor, projectId: string, range: DayRange, top: number) {
      await projectAccess.requireProject(actor, projectId, 'read');
      return repo.projectSummary(projectId, range, top);
    },

    /** The caller's entries across every workspace and project they can still see. */
    listMyEntries: (actor: Actor, range: DayRange, page: Page) => repo.listForUser(actor.userId, range, page),
  };
}

export type TimeService = ReturnType<typeof createTimeService>;
