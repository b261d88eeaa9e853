import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '../src/client/client.js';
import { LAST_SEEN_CHECKPOINT_MS } from '../src/core/presence/last-seen-checkpoints.js';
import { DATABASE_FILE } from '../src/store/sqlite/database.js';
import { STORE_LATENCY_ENV } from '../src/store/latency-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { PASSWORD, collect, connectRecording, makeAccount } from './helpers/events.js';
import { makeDataDir, startTestServer, type TestServer } from './helpers/server.js';
import { VirtualClock } from './helpers/virtual-clock.js';
import { nameSkeleton } from '../src/core/accounts/confusables.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.dispose();
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// A large replay cap, so what is replayed is decided by the last-seen time alone.
const SET = { 'history.replay': 100 };

async function start(dataDir: string, clock: VirtualClock): Promise<TestServer> {
  const server = await startTestServer({ dataDir, clock, set: SET });
  servers.push(server);
  return server;
}

function newDataDir(): string {
  const dir = makeDataDir();
  dirs.push(dir);
  return dir;
}

/** A clock that starts `ms` after `clock` (a restart happens later than what came before). */
function clockAfter(clock: VirtualClock, ms: number): VirtualClock {
  const later = new VirtualClock();
  later.advance(clock.now() - later.now() + ms);
  return later;
}

/** The account's `last_seen_at`, read beside the running server (WAL). */
function lastSeenAt(dataDir: string, nameKey: string): number | null {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    const row = db.prepare('SELECT last_seen_at FROM accounts WHERE name_key = ?').get(nameKey) as
      { last_seen_at: number | null } | undefined;
    return row?.last_seen_at ?? null;
  } finally {
    db.close();
  }
}

/**
 * What a crash would leave on disk now: every committed write and nothing else (no
 * logout is recorded), copied into a new data directory the next server starts on.
 */
async function crashImage(dataDir: string): Promise<string> {
  const copy = newDataDir();
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    await db.backup(path.join(copy, DATABASE_FILE));
  } finally {
    db.close();
  }
  return copy;
}

async function say(client: ChatClient, room: string, text: string): Promise<number> {
  return (await client.request<{ ts: number }>('say', { room, text })).ts;
}

/** Logs alice in on `server` and returns the texts replayed to her as missed. */
async function missedAtLogin(server: TestServer): Promise<string[]> {
  const { events } = await connectRecording(server, 'alice', PASSWORD);
  return events.flatMap((e) =>
    (e.ev === 'message' || e.ev === 'private') && e.replay === 'missed' ? [e.text] : [],
  );
}

/** alice (an account) in her room `ops` with bob (a guest); alice has logged out once. */
async function setUp(dataDir: string, clock: VirtualClock) {
  const server = await start(dataDir, clock);
  await makeAccount(server, 'alice');
  const alice = await server.connect('alice', PASSWORD);
  await alice.request('create', { room: 'ops' });
  const bob = await server.connect('bob');
  await bob.request('join', { room: 'ops' });
  return { server, alice, bob };
}

describe('last-seen checkpoints', () => {
  it('after a crash, replays only what was said since the last checkpoint', async () => {
    const clock = new VirtualClock();
    const dataDir = newDataDir();
    const { server, bob } = await setUp(dataDir, clock);

    // Seen live, long before the crash.
    await say(bob, 'ops', 'early');
    clock.advance(5 * 60_000);
    const late = await say(bob, 'ops', 'late');
    clock.advance(LAST_SEEN_CHECKPOINT_MS);
    // The checkpoint is a lazy write: it reaches the disk within a moment.
    await vi.waitFor(() => expect(lastSeenAt(dataDir, 'alice')).toBeGreaterThan(late));
    const checkpoint = lastSeenAt(dataDir, 'alice')!;
    expect(checkpoint).toBeLessThanOrEqual(clock.now());
    expect(clock.now() - checkpoint).toBeLessThan(LAST_SEEN_CHECKPOINT_MS);
    // Seen live too, but after the last checkpoint: the window a crash can replay.
    await say(bob, 'ops', 'just before the crash');

    const image = await crashImage(dataDir);
    const restarted = await start(image, clockAfter(clock, 60_000));
    expect(await missedAtLogin(restarted)).toEqual(['just before the crash']);
    await server.stop();
  });

  it('after a crash, a client that says what it last saw (seenMid) gets only newer messages', async () => {
    const clock = new VirtualClock();
    const dataDir = newDataDir();
    const { server, alice, bob } = await setUp(dataDir, clock);
    clock.advance(LAST_SEEN_CHECKPOINT_MS);
    await vi.waitFor(() => expect(lastSeenAt(dataDir, 'alice')).toBe(clock.now()));
    // After the last checkpoint: seen live by alice (her own message included)...
    await say(bob, 'ops', 'seen before the crash');
    const own = await alice.request<{ mid: number }>('say', { room: 'ops', text: 'my own' });
    const image = await crashImage(dataDir);
    // ...and, on the restarted server, one she never saw.
    const restarted = await start(image, clockAfter(clock, 60_000));
    const carol = await restarted.connect('carol');
    await carol.request('join', { room: 'ops' });
    await carol.request('say', { room: 'ops', text: 'said after the restart' });

    const client = await restarted.open();
    const events = collect(client);
    await client.request('nick', { nick: 'alice', password: PASSWORD, seenMid: own.mid });
    await client.request('ping');
    const missed = events.flatMap((e) =>
      e.ev === 'message' && e.replay === 'missed' ? [e.text] : [],
    );
    if (process.env[STORE_LATENCY_ENV]) {
      // A store that answers out of call order fans messages out out of id order, so
      // seenMid says nothing of the others: the whole window since the checkpoint comes.
      expect(missed).toEqual(['seen before the crash', 'my own', 'said after the restart']);
    } else {
      expect(missed).toEqual(['said after the restart']);
    }
    await server.stop();
  });

  it('a login is a checkpoint: a crash before the next one does not replay its backlog again', async () => {
    const clock = new VirtualClock();
    const dataDir = newDataDir();
    const { server, alice, bob } = await setUp(dataDir, clock);
    await alice.quit();
    await say(bob, 'ops', 'while away');
    clock.advance(60_000);

    expect(await missedAtLogin(server)).toEqual(['while away']);
    const loginAt = clock.now();
    await vi.waitFor(() => expect(lastSeenAt(dataDir, 'alice')).toBe(loginAt));
    clock.advance(1000);
    await say(bob, 'ops', 'after the login');

    const image = await crashImage(dataDir);
    const restarted = await start(image, clockAfter(clock, 60_000));
    expect(await missedAtLogin(restarted)).toEqual(['after the login']);
    await server.stop();
  });

  it('a clean logout still replays exactly what was said after it', async () => {
    const clock = new VirtualClock();
    const dataDir = newDataDir();
    const { server, alice, bob } = await setUp(dataDir, clock);
    clock.advance(2 * LAST_SEEN_CHECKPOINT_MS + 5000);
    const lastCheckpoint = clock.now() - 5000;
    await vi.waitFor(() => expect(lastSeenAt(dataDir, 'alice')).toBe(lastCheckpoint));
    await say(bob, 'ops', 'seen live, after the last checkpoint');
    // A checkpoint falls due just before the logout and is written lazily, most likely
    // after it: the logout's time is the one kept.
    clock.advance(LAST_SEEN_CHECKPOINT_MS - 5000 + 1);
    await alice.quit();
    const loggedOutAt = clock.now();
    await say(bob, 'ops', 'after 1');
    // Checkpoints while alice is offline do not touch her.
    clock.advance(2 * LAST_SEEN_CHECKPOINT_MS);
    await say(bob, 'ops', 'after 2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lastSeenAt(dataDir, 'alice')).toBe(loggedOutAt);

    await server.stop();
    const restarted = await start(dataDir, clockAfter(clock, 60_000));
    expect(await missedAtLogin(restarted)).toEqual(['after 1', 'after 2']);
  });

  it('an account away waiting to be resumed is seen until it dropped, not checkpointed', async () => {
    // What an away session is sent waits in memory for a resume that may never come: if
    // it does not, the next login replays from the drop, so nothing sent meanwhile is lost.
    const clock = new VirtualClock();
    const dataDir = newDataDir();
    const { server, alice } = await setUp(dataDir, clock);
    await makeAccount(server, 'carol');
    await server.connect('carol', PASSWORD);
    const before = lastSeenAt(dataDir, 'alice')!;
    clock.advance(1000);
    const droppedAt = clock.now();
    alice.destroy();
    await vi.waitFor(() => expect(server.server.core.findSession('alice')?.link).toBeNull());
    clock.advance(LAST_SEEN_CHECKPOINT_MS);
    // The checkpoint ran (carol, connected, is seen now); alice, away, is not.
    await vi.waitFor(() => expect(lastSeenAt(dataDir, 'carol')).toBeGreaterThan(droppedAt));
    expect(lastSeenAt(dataDir, 'alice')).toBe(before);
    // The grace period ends the session: last seen when the connection dropped.
    clock.advance(server.server.core.params['resume.graceSeconds'] * 1000);
    await vi.waitFor(() => expect(server.server.core.findSession('alice')).toBeUndefined());
    await vi.waitFor(() => expect(lastSeenAt(dataDir, 'alice')).toBe(droppedAt));
  });
});

describe('AccountStore.touchLastSeen', () => {
  it('moves last seen forward only, in one lazy write for many accounts', async () => {
    const store = SqliteStore.open(newDataDir());
    stores.push(store);
    const account = (name: string) =>
      store.accounts.create({
        name,
        nameKey: name,
        nameSkeleton: nameSkeleton(name),
        passwordHash: 'x',
        role: 'user',
        createdAt: 0,
      });
    const a = await account('a');
    const b = await account('b');
    const seen = async () =>
      [(await store.accounts.findById(a.id))!, (await store.accounts.findById(b.id))!].map(
        (x) => x.lastSeenAt,
      );

    await store.accounts.touchLastSeen([a.id, b.id], 1000);
    expect(await seen()).toEqual([1000, 1000]);
    await store.accounts.setLastSeen(a.id, 5000);
    await store.accounts.touchLastSeen([a.id, b.id], 4000);
    expect(await seen()).toEqual([5000, 4000]);

    // A checkpoint queued before a logout and written after it keeps the logout's time.
    const checkpoint = store.accounts.touchLastSeen([a.id], 6000);
    await store.accounts.setLastSeen(a.id, 7000);
    await checkpoint;
    expect(await seen()).toEqual([7000, 4000]);
    await store.accounts.touchLastSeen([], 9000);
    expect(await seen()).toEqual([7000, 4000]);
  });
});
