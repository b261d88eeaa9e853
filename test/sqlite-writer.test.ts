import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../src/store/sqlite/database.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { LAZY_WRITE_MS } from '../src/store/sqlite/writer.js';
import { StoreUnavailableError, type NewMessage } from '../src/store/store.js';
import { noTelemetry } from '../src/telemetry/telemetry.js';
import { makeDataDir } from './helpers/server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A store in a fresh data dir, a read-only connection beside it, and its commits. */
function open() {
  const dir = makeDataDir();
  const store = SqliteStore.open(dir);
  const reader = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
  const commits: number[] = [];
  store.instrument({ ...noTelemetry, storeCommitted: (_seconds, writes) => commits.push(writes) });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  cleanups.push(() => {
    reader.close();
  });
  return { store, reader, commits };
}

const message = (text: string): NewMessage => ({
  ts: 1,
  sender: 't',
  senderAccountId: null,
  room: 'lobby',
  recipients: [],
  text,
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the SQLite writer thread', () => {
  it('has every write committed, visible to another connection, when its promise resolves', async () => {
    const { store, reader } = open();
    const seen = reader.prepare<[number], { text: string }>(
      'SELECT text FROM messages WHERE id = ?',
    );
    const writes = Array.from({ length: 50 }, (_, i) =>
      store.messages.append(message(`m${i}`)).then((stored) => seen.get(stored.id)?.text),
    );
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
  });

  it('commits on its own thread: the event loop turns while a slow commit runs, and what arrives meanwhile goes as one batch', async () => {
    const { store, reader, commits } = open();
    // A write that keeps SQLite busy for a while on the writer's connection (a trigger
    // counting to a few million), where a commit's fsync would be.
    reader.close();
    const setup = new Database(path.join(store.db.name));
    setup.exec(`
      CREATE TRIGGER slow_write BEFORE INSERT ON messages WHEN NEW.text = 'slow'
      BEGIN
        SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
                                                      WHERE x < 3000000) SELECT x FROM c);
      END;`);
    setup.close();
    let slowDone = false;
    const slow = store.messages.append(message('slow')).then(() => (slowDone = true));
    await turn();
    // Twenty writes, each in a turn of its own, while the slow one is still committing.
    let turnsDuringSlowCommit = 0;
    const later: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      later.push(store.messages.append(message(`later ${i}`)));
      await turn();
      if (!slowDone) turnsDuringSlowCommit++;
    }
    await Promise.all([slow, ...later]);
    expect(turnsDuringSlowCommit).toBe(20);
    // One commit for the slow write, one for the twenty that waited for it.
    expect(commits).toEqual([1, 20]);
  });

  it('does not let one failing write fail the others of its batch', async () => {
    const { store, reader } = open();
    await store.rooms.create({
      name: 'Tea',
      nameKey: 'tea',
      ownerAccountId: null,
      ownerName: 'x',
      topic: null,
      createdAt: 1,
      historyFloor: 0,
    });
    const results = await Promise.allSettled([
      store.messages.append(message('before')),
      // The name is taken: a constraint error, reported as the store's conflict.
      store.rooms.create({
        name: 'TEA',
        nameKey: 'tea',
        ownerAccountId: null,
        ownerName: 'y',
        topic: null,
        createdAt: 2,
        historyFloor: 0,
      }),
      store.messages.append(message('after')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as Error).name).toBe('StoreConflictError');
    const texts = reader.prepare('SELECT text FROM messages ORDER BY id').pluck().all();
    expect(texts).toEqual(['before', 'after']);
  });

  it('lets a lazy write ride with the next commit, or commit alone after a while', async () => {
    const { store, reader } = open();
    const addresses = reader.prepare('SELECT count(*) FROM name_addresses').pluck();
    const lazy = store.moderation.recordAddress('ann', '127.0.0.1', 1);
    await turn();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(addresses.get()).toBe(0);
    await store.messages.append(message('urgent'));
    expect(addresses.get()).toBe(1);
    await lazy;
    const started = Date.now();
    await store.moderation.recordAddress('bob', '127.0.0.2', 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LAZY_WRITE_MS - 5);
    expect(addresses.get()).toBe(2);
    // A ban reads the address at once: a waiting lazy write is committed first.
    void store.moderation.recordAddress('cid', '127.0.0.3', 3);
    expect(await store.moderation.lastAddress('cid')).toBe('127.0.0.3');
  });

  it('reports a full database as StoreUnavailableError, and recovers', async () => {
    const { store } = open();
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    await store.writerPragma(`max_page_count = ${pages}`);
    let error: unknown;
    for (let i = 0; i < 500 && !error; i++)
      await store.messages.append(message('z'.repeat(500))).catch((e: unknown) => (error = e));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    await store.writerPragma('max_page_count = 1073741823');
    await expect(store.messages.append(message('again'))).resolves.toMatchObject({
      text: 'again',
    });
  });

  it('gives lastId only messages whose append has resolved', async () => {
    const { store } = open();
    const first = await store.messages.append(message('one'));
    expect(await store.messages.lastId()).toBe(first.id);
    const pending = store.messages.append(message('two'));
    // Committed or not on the writer's side, not yet told: not past the horizon.
    expect(await store.messages.lastId()).toBe(first.id);
    const second = await pending;
    expect(await store.messages.lastId()).toBe(second.id);
  });

  it('takes concurrent guesses at one name one after the other, never both from the same count', async () => {
    const { store } = open();
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () =>
        store.loginGuard.takeNameAttempt('ann', 1000, 60_000, () => 0),
      ),
    );
    const counts = attempts.map((attempt) => (attempt.taken ? attempt.failures.failures : -1));
    expect(counts.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await store.loginGuard.nameFailures('ann')).toMatchObject({ failures: 5 });
  });

  it('commits what is queued at close, and refuses writes after it', async () => {
    const dir = makeDataDir();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = SqliteStore.open(dir);
    const written = store.messages.append(message('last words'));
    await store.close();
    await expect(written).resolves.toMatchObject({ text: 'last words' });
    await expect(store.messages.append(message('too late'))).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    const reopened = SqliteStore.open(dir);
    cleanups.push(() => reopened.close());
    expect(await reopened.messages.count()).toBe(1);
  });
});
