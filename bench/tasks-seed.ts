// The tasks benchmark's data, in SQL (generate_series, a few seconds): the bench login user owns
// one workspace with 19 members, 100 projects (keys PAA…PDV, task_seq 500) and 500 tasks in each,
// numbered 1..500: statuses, priorities, assignees, labels and estimates spread evenly, due dates
// over ~5 months with a quarter of them unset, board positions 1024 apart within each column.
import pg from 'pg';
import { say, sleep } from './lib.js';

export const PROJECTS = 100;
export const TASKS_PER_PROJECT = 500;

export interface TasksSeed {
  userId: string;
  workspaceId: string;
  projectIds: string[];
  /** 1,000 random seeded tasks the GET runs cycle through. */
  taskIds: string[];
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Workspace, projects and tasks for the user `email` (seeded beforehand with the other users). */
export function seedTasks(url: string, email: string): Promise<TasksSeed> {
  const started = Date.now();
  return withClient(url, async (c) => {
    const me = (await c.query<{ id: string }>('select id from users where email = $1', [email])).rows[0]?.id;
    if (!me) throw new Error(`no user ${email} to own the bench workspace`);
    const { rows: ws } = await c.query<{ id: string }>(
      `insert into workspaces (id, name, slug, created_by) values (gen_random_uuid(), 'Bench workspace', 'bench', $1) returning id`,
      [me],
    );
    const workspaceId = ws[0]?.id as string;
    await c.query(`insert into workspace_members (workspace_id, user_id, role) values ($1, $2, 'owner')`, [workspaceId, me]);
    await c.query(
      `insert into workspace_members (workspace_id, user_id, role)
       select $1, id, 'member' from users where id <> $2 order by email limit 19`,
      [workspaceId, me],
    );
    await c.query(
      `insert into projects (id, workspace_id, key, name, description, task_seq, created_by, created_at, updated_at)
       select gen_random_uuid(), $1, 'P' || chr(65 + (i - 1) / 26) || chr(65 + (i - 1) % 26), 'Project ' || i,
              'Bench project ' || i, $3::int, $2, now() - interval '400 days', now() - interval '400 days'
       from generate_series(1, $4::int) as i`,
      [workspaceId, me, TASKS_PER_PROJECT, PROJECTS],
    );
    await c.query(
      `with m as (select array_agg(user_id order by user_id) as ids from workspace_members where workspace_id = $1 and role = 'member'),
            p as (select id, key, row_number() over (order by key)::int as pi from projects where workspace_id = $1)
       insert into tasks (id, workspace_id, project_id, number, title, description, status, priority, assignee_id, reporter_id,
                          due_date, labels, estimate_minutes, position, version, completed_at, created_at, updated_at)
       select gen_random_uuid(), $1, p.id, n,
              (array['Fix','Write','Review','Ship','Plan'])[1 + n % 5] || ' the ' ||
                (array['login page','export','billing','search','onboarding','API docs','mobile layout'])[1 + (n * 3) % 7] || ' (' || p.key || ' ' || n || ')',
              case when n % 3 = 0 then '' else 'Notes for task ' || n || '. ' || repeat('Steps to reproduce, expected and actual result. ', 1 + n % 4) end,
              (array['todo','in_progress','in_review','done','cancelled'])[1 + n % 5],
              (array['none','low','medium','high','urgent'])[1 + (n * 7 + p.pi) % 5],
              case when n % 4 = 0 then null else m.ids[1 + (n + p.pi) % cardinality(m.ids)] end,
              $2,
              case when n % 4 = 0 then null else current_date + ((n * 37 + p.pi) % 150 - 40) end,
              case n % 4 when 0 then '{}'::text[] when 1 then array['bug'] when 2 then array['frontend','ux'] else array['backend'] end,
              case when n % 2 = 0 then 30 * (1 + n % 8) end,
              (n / 5 + 1) * 1024,
              1 + n % 3,
              case when n % 5 = 3 then now() - make_interval(days => n % 30) end,
              now() - interval '400 days' + make_interval(mins => n * 7),
              now() - interval '400 days' + make_interval(mins => n * 9)
       from p, m, generate_series(1, $3::int) as n`,
      [workspaceId, me, TASKS_PER_PROJECT],
    );
    await c.query('analyze');
    const { rows: projects } = await c.query<{ id: string }>('select id from projects where workspace_id = $1 order by key', [workspaceId]);
    const { rows: tasks } = await c.query<{ id: string }>('select id from tasks order by random() limit 1000');
    const { rows: counted } = await c.query<{ n: number }>('select count(*)::int as n from tasks');
    say(`seeded 1 workspace, ${projects.length} projects and ${counted[0]?.n.toLocaleString('en-US')} tasks in ${Date.now() - started} ms`);
    return { userId: me, workspaceId, projectIds: projects.map((p) => p.id), taskIds: tasks.map((t) => t.id) };
  });
}

/**
 * Back to the seeded state after creates: their tasks and activity gone, numbering reset, tables
 * vacuumed. It first waits until no other session is working: when autocannon stops, the server
 * still finishes the creates in flight, and one committing after the reset would take a number
 * the next run hands out again.
 */
export function resetTasks(url: string): Promise<void> {
  return withClient(url, async (c) => {
    let quiet = 0;
    for (const deadline = Date.now() + 30_000; quiet < 3 && Date.now() < deadline; ) {
      await sleep(100);
      const { rows } = await c.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend' and state <> 'idle'`,
      );
      quiet = rows[0]?.n === 0 ? quiet + 1 : 0;
    }
    await c.query('delete from activities');
    await c.query('delete from tasks where number > $1', [TASKS_PER_PROJECT]);
    await c.query('update projects set task_seq = $1 where task_seq <> $1', [TASKS_PER_PROJECT]);
    await c.query('vacuum analyze tasks, activities, projects');
  });
}
