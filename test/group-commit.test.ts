import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DATABASE_FILE,
  LAZY_WRITE_MS,
  openDatabase,
  WriteBatcher,
} from '../src/store/sqlite/database.js';
import { StoreUnavailableError } from '../src/store/store.js';
import { makeDataDir } from './helpers/server.js';

const dirs: string[] = [];
const handles: Database.Database[] = [];
afterEach(() => {
  for (const db of handles.splice(0)) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open() {
  const dir = makeDataDir();
  dirs.push(dir);
  const db = openDatabase(dir);
  const reader = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
  handles.push(db, reader);
  return { db, reader, batcher: new WriteBatcher(db) };
}

const insert = (db: Database.Database, text: string) => () =>
  Number(
    db
      .prepare('INSERT INTO messages (ts, sender, room, text) VALUES (0, ?, ?, ?)')
      .run('t', 'lobby', text).lastInsertRowid,
  );

describe('group commit', () => {
  it('has every write committed, visible to another connection, when its promise resolves', async () => {
    const { db, reader, batcher } = open();
    const seen = reader.prepare<[number], { text: string }>(
      'SELECT text FROM messages WHERE id = ?',
    );
    const writes = Array.from({ length: 50 }, (_, i) =>
      batcher.enqueue(insert(db, `m${i}`)).then((id) => seen.get(id)?.text),
    );
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
  });

  it('does not let one failing write fail the others of its batch', async () => {
    const { db, reader, batcher } = open();
    const results = await Promise.allSettled([
      batcher.enqueue(insert(db, 'before')),
      batcher.enqueue(() => db.prepare('INSERT INTO no_such_table VALUES (1)').run()),
      batcher.enqueue(insert(db, 'after')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const texts = reader.prepare('SELECT text FROM messages ORDER BY id').pluck().all();
    expect(texts).toEqual(['before', 'after']);
  });

  it('lets a lazy write ride with the next commit, or commit alone after a while', async () => {
    const { db, reader, batcher } = open();
    const count = reader.prepare('SELECT count(*) FROM messages').pluck();
    const lazy = batcher.enqueueLazy(insert(db, 'lazy'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(count.get()).toBe(0);
    await batcher.enqueue(insert(db, 'urgent'));
    expect(count.get()).toBe(2);
    await lazy;
    const started = Date.now();
    await batcher.enqueueLazy(insert(db, 'alone'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(LAZY_WRITE_MS - 5);
    expect(count.get()).toBe(3);
  });

  it('reports a full database as StoreUnavailableError', async () => {
    const { db, batcher } = open();
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    let error: unknown;
    for (let i = 0; i < 500 && !error; i++)
      await batcher.enqueue(insert(db, 'z'.repeat(500))).catch((e: unknown) => (error = e));
    expect(error).toBeInstanceOf(StoreUnavailableError);
  });
});
