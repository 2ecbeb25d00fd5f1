// Comments on tasks: who may comment, mentions resolved to workspace members, cursor pages,
// edit by the author only, soft delete by the author or an admin, history and domain events.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { assertError, assertStatus, recordEvents, startApiServer } from './helpers/api.js';
import {
  addProjectMember,
  addWorkspaceMember,
  createProject,
  createTask,
  createUser,
  createWorkspace,
  type RegisteredUser,
} from './helpers/factories.js';
import type { TestServer } from './helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startApiServer();
});
after(() => server.close());

const COMMENT_FIELDS = ['authorId', 'body', 'createdAt', 'editedAt', 'id', 'mentions', 'taskId'];

/** A workspace with every kind of caller, a project the projectGuest was added to, and a task in it. */
async function team() {
  const owner = await createUser(server);
  const ws = await createWorkspace(server, owner);
  const admin = await addWorkspaceMember(server, owner, ws.id, 'admin');
  const member = await addWorkspaceMember(server, owner, ws.id, 'member');
  const other = await addWorkspaceMember(server, owner, ws.id, 'member');
  const projectGuest = await addWorkspaceMember(server, owner, ws.id, 'guest');
  const guest = await addWorkspaceMember(server, owner, ws.id, 'guest');
  const outsider = await createUser(server);
  const project = await createProject(server, owner, ws.id, { key: 'WEB' });
  await addProjectMember(server, owner, project.id, projectGuest.id);
  const task = await createTask(server, member, project.id);
  return { owner, ws, admin, member, other, projectGuest, guest, outsider, project, task };
}

const comment = (user: RegisteredUser, taskId: string, body: unknown, headers?: Record<string, string>) =>
  server.request('POST', `/api/v1/tasks/${taskId}/comments`, { token: user.accessToken, body, headers });
const edit = (user: RegisteredUser, commentId: string, body: unknown) =>
  server.request('PATCH', `/api/v1/comments/${commentId}`, { token: user.accessToken, body });
const remove = (user: RegisteredUser, commentId: string) =>
  server.request('DELETE', `/api/v1/comments/${commentId}`, { token: user.accessToken });
const list = (user: RegisteredUser, taskId: string, query = '') =>
  server.request('GET', `/api/v1/tasks/${taskId}/comments${query}`, { token: user.accessToken });

async function stored(id: string) {
  const { rows } = await server.sql.query<{
    body: string;
    mentions: string[];
    edited_at: Date | null;
    deleted_at: Date | null;
    author_id: string;
  }>('select body, mentions, edited_at, deleted_at, author_id from task_comments where id = $1', [id]);
  return rows[0];
}

describe('commenting on a task', () => {
  it('answers 201 with Location and the comment, and records it in the task history', async () => {
    const { member, task } = await team();
    const res = await comment(member, task.id, { body: '**Looks good** to me' });
    assertStatus(res, 201);
    const c = res.body.data;
    assert.deepEqual(Object.keys(c).sort(), COMMENT_FIELDS);
    assert.equal(res.headers.get('location'), `/api/v1/comments/${c.id}`);
    assert.deepEqual(
      { ...c, id: undefined, createdAt: undefined },
      {
        id: undefined,
        createdAt: undefined,
        taskId: task.id,
        authorId: member.id,
        body: '**Looks good** to me',
        mentions: [],
        editedAt: null,
      },
    );
    assert.equal((await stored(c.id))?.body, '**Looks good** to me');

    const history = await server.request('GET', `/api/v1/tasks/${task.id}/activity`, { token: member.accessToken });
    const commented = history.body.data.filter((a: { verb: string }) => a.verb === 'commented');
    assert.equal(commented.length, 1);
    assert.deepEqual(commented[0].changes, { comment: { before: null, after: c.id } });
    assert.equal(commented[0].actorId, member.id);
  });

  it('lets a guest added to the project comment, and hides the task from a guest who was not', async () => {
    const { projectGuest, guest, outsider, task } = await team();
    assertStatus(await comment(projectGuest, task.id, { body: 'Guest here' }), 201);
    assertError(await comment(guest, task.id, { body: 'Not added' }), 404, 'NOT_FOUND', 'Task not found');
    assertError(await comment(outsider, task.id, { body: 'Outside' }), 404, 'NOT_FOUND', 'Task not found');
    assertError(await server.request('POST', `/api/v1/tasks/${task.id}/comments`, { body: { body: 'Anonymous' } }), 401, 'NO_TOKEN');
  });

  it('answers 404 for a task that does not exist and 400 for a malformed task id', async () => {
    const { member } = await team();
    assertError(await comment(member, randomUUID(), { body: 'Hello' }), 404, 'NOT_FOUND', 'Task not found');
    assertError(await comment(member, 'not-a-uuid', { body: 'Hello' }), 400, 'INVALID_ID', 'Invalid task ID');
  });

  it('takes 1 to 10,000 characters of Markdown and refuses empty, blank, longer or unknown fields', async () => {
    const { member, task } = await team();
    assertStatus(await comment(member, task.id, { body: 'x'.repeat(10_000) }), 201);
    const cases: [unknown, string][] = [
      [{ body: '' }, 'body'],
      [{ body: ' \n\t ' }, 'body'],
      [{ body: 'x'.repeat(10_001) }, 'body'],
      [{}, 'body'],
      [{ body: 'hi', authorId: member.id }, 'authorId'],
    ];
    for (const [body, path] of cases) {
      const res = await comment(member, task.id, body);
      assertError(res, 400, 'VALIDATION_FAILED');
      assert.ok(
        res.body.details.some((d: { path: string }) => d.path === path),
        `${JSON.stringify(body).slice(0, 60)} → ${res.text}`,
      );
    }
  });

  it('replays the first answer to a repeated Idempotency-Key and stores one comment', async () => {
    const { member, task } = await team();
    const headers = { 'idempotency-key': `comment-${randomUUID()}` };
    const first = await comment(member, task.id, { body: 'Once' }, headers);
    const again = await comment(member, task.id, { body: 'Once' }, headers);
    assertStatus(first, 201);
    assertStatus(again, 201);
    assert.equal(again.body.data.id, first.body.data.id);
    assert.equal(again.headers.get('location'), first.headers.get('location'));
    const { rows } = await server.sql.query('select count(*)::int as n from task_comments where task_id = $1', [task.id]);
    assert.equal(rows[0].n, 1);
  });

  it('is refused with 409 while the project is archived, but stays readable', async () => {
    const { owner, member, project, task } = await team();
    const first = await comment(member, task.id, { body: 'Before archiving' });
    assertStatus(await server.request('POST', `/api/v1/projects/${project.id}/archive`, { token: owner.accessToken }), 200);
    assertError(await comment(member, task.id, { body: 'After' }), 409, 'CONFLICT', /archived/);
    assertError(await edit(member, first.body.data.id, { body: 'Edited' }), 409, 'CONFLICT', /archived/);
    assertError(await remove(member, first.body.data.id), 409, 'CONFLICT', /archived/);
    assert.deepEqual(
      (await list(member, task.id)).body.data.map((c: { body: string }) => c.body),
      ['Before archiving'],
    );
  });
});

describe('mentions', () => {
  it('keeps members of the task’s workspace and ignores everyone and everything else', async () => {
    const { member, other, guest, outsider, task } = await team();
    const body = [
      `Hey <@${other.id}> and <@${guest.id.toUpperCase()}>, again <@${other.id}>.`,
      `Not <@${outsider.id}>, not <@${randomUUID()}>, not <@someone>.`,
      `Quoted: \`<@${member.id}>\``,
    ].join('\n');
    const res = await comment(member, task.id, { body });
    assertStatus(res, 201);
    assert.deepEqual(res.body.data.mentions, [other.id, guest.id]);
    assert.equal(res.body.data.body, body, 'the body is stored as written');
    assert.deepEqual((await stored(res.body.data.id))?.mentions, [other.id, guest.id]);
  });

  it('publishes comment.created after commit with the task and the resolved mentions', async () => {
    const { member, other, project, task, ws } = await team();
    const recorder = recordEvents(server, async (e) => {
      if (e.type !== 'comment.created') return;
      // After commit: another connection already sees the row.
      const seen = await stored((e.data as { comment: { id: string } }).comment.id);
      assert.ok(seen, 'the comment is committed when the event is handled');
    });
    try {
      const res = await comment(member, task.id, { body: `<@${other.id}> please review` });
      assertStatus(res, 201);
      const event = await recorder.waitFor(
        (e) => e.type === 'comment.created' && (e.data as { comment: { id: string } }).comment.id === res.body.data.id,
      );
      assert.equal(event.workspaceId, ws.id);
      assert.equal(event.projectId, project.id);
      assert.equal(event.actorId, member.id);
      const data = event.data as { taskId: string; taskKey: string; mentions: string[] };
      assert.equal(data.taskId, task.id);
      assert.equal(data.taskKey, task.key);
      assert.deepEqual(data.mentions, [other.id]);
    } finally {
      recorder.stop();
    }
  });
});

describe('listing comments', () => {
  it('answers oldest first in cursor pages, without deleted comments', async () => {
    const { member, other, projectGuest, guest, task } = await team();
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4, 5]) ids.push((await comment(n % 2 ? member : other, task.id, { body: `Comment ${n}` })).body.data.id);
    assertStatus(await remove(other, ids[1] as string), 200);

    const first = await list(projectGuest, task.id, '?limit=2');
    assertStatus(first, 200);
    assert.deepEqual(
      first.body.data.map((c: { body: string }) => c.body),
      ['Comment 1', 'Comment 3'],
    );
    assert.equal(first.body.pagination.hasMore, true);
    assert.equal(first.body.pagination.limit, 2);
    const second = await list(projectGuest, task.id, `?limit=2&cursor=${first.body.pagination.nextCursor}`);
    assert.deepEqual(
      second.body.data.map((c: { body: string }) => c.body),
      ['Comment 4', 'Comment 5'],
    );
    assert.equal(second.body.pagination.hasMore, false);
    assert.equal(second.body.pagination.nextCursor, null);

    assertError(await list(guest, task.id), 404, 'NOT_FOUND', 'Task not found');
    assertError(await list(member, task.id, '?cursor=bm9wZQ'), 400, 'VALIDATION_FAILED');
    assertError(await list(member, task.id, '?limit=101'), 400, 'VALIDATION_FAILED');
    assertError(await list(member, task.id, '?sort=id'), 400, 'VALIDATION_FAILED');
  });
});

describe('editing a comment', () => {
  it('lets the author change the body: editedAt is set and mentions are resolved again', async () => {
    const { member, other, admin, task } = await team();
    const created = (await comment(member, task.id, { body: `For <@${other.id}>` })).body.data;
    const recorder = recordEvents(server);
    try {
      const res = await edit(member, created.id, { body: `For <@${admin.id}> instead` });
      assertStatus(res, 200);
      assert.equal(res.body.data.body, `For <@${admin.id}> instead`);
      assert.deepEqual(res.body.data.mentions, [admin.id]);
      assert.ok(res.body.data.editedAt);
      assert.equal(res.body.data.createdAt, created.createdAt);
      const row = await stored(created.id);
      assert.deepEqual(row?.mentions, [admin.id]);
      assert.ok(row?.edited_at);
      const event = await recorder.waitFor((e) => e.type === 'comment.updated');
      assert.deepEqual((event.data as { addedMentions: string[] }).addedMentions, [admin.id]);
    } finally {
      recorder.stop();
    }
  });

  it('refuses everyone but the author with 403, admins and owners included', async () => {
    const { owner, admin, other, projectGuest, member, task } = await team();
    const created = (await comment(member, task.id, { body: 'Mine' })).body.data;
    for (const user of [owner, admin, other, projectGuest]) {
      assertError(await edit(user, created.id, { body: 'Not yours' }), 403, 'FORBIDDEN', 'Insufficient permissions.');
    }
    assert.equal((await stored(created.id))?.body, 'Mine');
    assert.equal((await stored(created.id))?.edited_at, null);
  });

  it('validates the new body like a new one', async () => {
    const { member, task } = await team();
    const created = (await comment(member, task.id, { body: 'Mine' })).body.data;
    assertError(await edit(member, created.id, { body: '' }), 400, 'VALIDATION_FAILED');
    assertError(await edit(member, created.id, { body: 'x', mentions: [] }), 400, 'VALIDATION_FAILED');
    assertError(await edit(member, 'nope', { body: 'x' }), 400, 'INVALID_ID', 'Invalid comment ID');
  });
});

describe('deleting a comment', () => {
  it('lets the author delete: the row stays without its words and the comment is gone for everyone', async () => {
    const { member, other, task } = await team();
    const created = (await comment(member, task.id, { body: `Secret for <@${other.id}>` })).body.data;
    const res = await remove(member, created.id);
    assertStatus(res, 200);
    assert.deepEqual(res.body, { success: true, message: 'Comment deleted successfully' });
    const row = await stored(created.id);
    assert.equal(row?.body, '');
    assert.deepEqual(row?.mentions, []);
    assert.ok(row?.deleted_at);
    assertError(
      await server.request('GET', `/api/v1/comments/${created.id}`, { token: other.accessToken }),
      404,
      'NOT_FOUND',
      'Comment not found',
    );
    assertError(await edit(member, created.id, { body: 'Back' }), 404, 'NOT_FOUND', 'Comment not found');
    assertError(await remove(member, created.id), 404, 'NOT_FOUND', 'Comment not found');
    assert.deepEqual((await list(other, task.id)).body.data, []);
  });

  it('lets workspace admins and owners delete anyone’s comment, and nobody else', async () => {
    const { owner, admin, member, other, projectGuest, task } = await team();
    const a = (await comment(member, task.id, { body: 'One' })).body.data;
    const b = (await comment(projectGuest, task.id, { body: 'Two' })).body.data;
    assertError(await remove(other, a.id), 403, 'FORBIDDEN');
    assertError(await remove(projectGuest, a.id), 403, 'FORBIDDEN');
    assertError(await remove(member, b.id), 403, 'FORBIDDEN');
    assertStatus(await remove(admin, a.id), 200);
    assertStatus(await remove(owner, b.id), 200);
    assert.ok((await stored(a.id))?.deleted_at);
    assert.ok((await stored(b.id))?.deleted_at);
  });

  it('publishes comment.deleted', async () => {
    const { member, task } = await team();
    const created = (await comment(member, task.id, { body: 'Bye' })).body.data;
    const recorder = recordEvents(server);
    try {
      assertStatus(await remove(member, created.id), 200);
      const event = await recorder.waitFor((e) => e.type === 'comment.deleted');
      assert.equal((event.data as { comment: { id: string; body: string } }).comment.id, created.id);
      assert.equal((event.data as { comment: { body: string } }).comment.body, '');
    } finally {
      recorder.stop();
    }
  });
});

describe('a comment by id', () => {
  it('is found only through its task’s project: another workspace answers 404 Comment not found', async () => {
    const { member, projectGuest, guest, outsider, task } = await team();
    const created = (await comment(member, task.id, { body: 'Inside' })).body.data;
    const got = await server.request('GET', `/api/v1/comments/${created.id}`, { token: projectGuest.accessToken });
    assertStatus(got, 200);
    assert.deepEqual(got.body.data, created);

    // Someone with a workspace of their own, where the comment does not exist.
    await createWorkspace(server, outsider);
    for (const user of [outsider, guest]) {
      assertError(
        await server.request('GET', `/api/v1/comments/${created.id}`, { token: user.accessToken }),
        404,
        'NOT_FOUND',
        'Comment not found',
      );
      assertError(await edit(user, created.id, { body: 'x' }), 404, 'NOT_FOUND', 'Comment not found');
      assertError(await remove(user, created.id), 404, 'NOT_FOUND', 'Comment not found');
    }
    assertError(
      await server.request('GET', `/api/v1/comments/${randomUUID()}`, { token: member.accessToken }),
      404,
      'NOT_FOUND',
      'Comment not found',
    );
    assert.equal((await stored(created.id))?.body, 'Inside');
  });
});
