import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestError, type ChatClient } from '../src/client/client.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
});

function database(srv: TestServer) {
  return srv.database;
}

function collect(client: ChatClient): ServerEvent[] {
  const events: ServerEvent[] = [];
  client.on('event', (event) => events.push(event));
  return events;
}

async function failure(promise: Promise<unknown>): Promise<RequestError> {
  const error = await promise.then(
    () => new Error('the request succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestError);
  return error as RequestError;
}

async function serverLog(srv: TestServer): Promise<Array<Record<string, unknown>>> {
  await srv.stop();
  return readFileSync(path.join(srv.server.logDir, 'server.log'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('durability settings', () => {
  it('runs SQLite in WAL mode with synchronous=FULL', async () => {
    server = await startTestServer();
    const db = database(server);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // The connection that writes, on the writer thread, as well.
    expect(await server.writerPragma('journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await server.writerPragma('synchronous')).toEqual([{ synchronous: 2 }]);
  });
});

describe('a full disk', () => {
  // Simulated, honestly: SQLite's max_page_count caps the database file at its current size,
  // so the next write that needs a page fails with SQLITE_FULL, the error a full disk gives.
  // (A real ENOSPC needs a small filesystem, which needs root tricks CI cannot do.)
  it('fails the message with storage_failed and no ack or delivery, then recovers', async () => {
    server = await startTestServer();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const bobSees = collect(bob);
    const pages = database(server).pragma('page_count', { simple: true }) as number;
    // On the connection that writes: the writer thread's.
    await server.writerPragma(`max_page_count = ${pages}`);

    const text = 'y'.repeat(200);
    let error: RequestError | undefined;
    // Free space in the last pages may take a few rows; the file cannot grow past them.
    for (let i = 0; i < 200 && !error; i++)
      error = await alice.request('say', { text: `${i} ${text}` }).then(
        () => undefined,
        (e: unknown) => e as RequestError,
      );
    expect(error).toBeInstanceOf(RequestError);
    expect(error!.code).toBe('storage_failed');
    // Nothing of the failed message reached anyone; the server still answers.
    await bob.request('ping');
    const delivered = bobSees.filter((e) => e.ev === 'message').length;
    const stored = await server.server.core.store.messages.count();
    expect(delivered).toBe(stored);
    await expect(alice.request('who')).resolves.toMatchObject({ users: [{}, {}] });
    // Still full: still refused, connection still usable.
    expect((await failure(alice.request('say', { text: `again ${text}` }))).code).toBe(
      'storage_failed',
    );

    // Space returns.
    await server.writerPragma('max_page_count = 1073741823');
    const toBob = bob.waitFor((e) => e.ev === 'message' && e.text === 'space again');
    const ack = await alice.request<{ mid: number }>('say', { text: 'space again' });
    expect(await toBob).toMatchObject({ mid: ack.mid, from: 'alice' });
    expect(alice.isClosed).toBe(false);
  });
});

describe('a read-only database', () => {
  // Simulated with PRAGMA query_only, which makes SQLite refuse writes with SQLITE_READONLY
  // as a read-only file would (chmod cannot do it here: tests may run as root).
  it('fails the message with storage_failed, keeps the session, then recovers', async () => {
    server = await startTestServer();
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const bobSees = collect(bob);
    await server.writerPragma('query_only = ON');
    expect((await failure(alice.request('say', { text: 'lost?' }))).code).toBe('storage_failed');
    expect((await failure(alice.request('msg', { to: ['bob'], text: 'lost?' }))).code).toBe(
      'storage_failed',
    );
    await bob.request('ping');
    expect(bobSees.filter((e) => e.ev === 'message' || e.ev === 'private')).toEqual([]);
    await server.writerPragma('query_only = OFF');
    await expect(alice.request('msg', { to: ['bob'], text: 'back' })).resolves.toMatchObject({
      delivered: ['bob'],
    });
  });
});

describe('an unexpected exception in one request', () => {
  it('ends that session with internal_error, is logged, and spares everyone else', async () => {
    server = await startTestServer();
    // A real failure path, not a backdoor: the store raises an error it does not classify
    // (a constraint from a trigger), which no handler expects.
    database(server).exec(`
      CREATE TRIGGER refuse_boom BEFORE INSERT ON messages WHEN NEW.text = 'boom'
      BEGIN SELECT RAISE(ABORT, 'boom refused'); END;`);
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    const carol = await server.connect('carol');
    const bobSees = collect(bob);
    const aliceLeaves = bob.waitFor((e) => e.ev === 'offline' && e.nick === 'alice');

    // Bob's message in the same group commit as alice's must not be lost with it.
    const [boom, fine] = await Promise.allSettled([
      alice.request('say', { text: 'boom' }),
      carol.request('say', { text: 'fine' }),
    ]);
    expect(boom.status).toBe('rejected');
    expect(((boom as PromiseRejectedResult).reason as RequestError).code).toBe('internal_error');
    expect(fine.status).toBe('fulfilled');
    expect((await alice.closed()).code).toBe('internal_error');
    expect(await aliceLeaves).toMatchObject({ nick: 'alice', reason: 'dropped' });

    await expect(bob.request('who')).resolves.toMatchObject({
      users: [{ nick: 'bob' }, { nick: 'carol' }],
    });
    expect(bobSees.filter((e) => e.ev === 'message').map((e) => 'text' in e && e.text)).toEqual([
      'fine',
    ]);
    const log = await serverLog(server);
    const entry = log.find((line) => line.msg === 'request handler failed');
    expect(entry).toMatchObject({ cmd: 'say', err: { message: expect.stringContaining('boom') } });
  });
});
