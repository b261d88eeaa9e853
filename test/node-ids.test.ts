import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/client.js';
import { NodeIds } from '../src/core/ids/node-ids.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { startTestNodes, type TestNodes } from './helpers/nodes.js';
import { makeDataDir, startTestServer, type TestServer } from './helpers/server.js';

function collect(client: ChatClient): ServerEvent[] {
  const events: ServerEvent[] = [];
  client.on('event', (event: ServerEvent) => events.push(event));
  return events;
}

/** Event ids a client receives from now on. */
function watch(client: ChatClient): number[] {
  const ids: number[] = [];
  client.on('event', (event: ServerEvent) => {
    if ('id' in event && typeof event.id === 'number') ids.push(event.id);
  });
  return ids;
}

function disjoint<T>(a: Iterable<T>, b: Iterable<T>): boolean {
  const seen = new Set(a);
  for (const each of b) if (seen.has(each)) return false;
  return true;
}

describe('NodeIds', () => {
  it('numbers inside its block, takes the next block half way, and never repeats', async () => {
    const claimed: number[] = [];
    let next = 1;
    const ids = await NodeIds.start(
      async () => {
        claimed.push(next);
        return next++;
      },
      () => undefined,
      4,
    );
    expect(ids.next()).toBe(1 * 16 + 1);
    const seen = new Set<number>([17]);
    for (let i = 0; i < 100; i++) {
      const id = ids.next();
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      // Let the spare block's claim resolve, as the event loop would between requests.
      await Promise.resolve();
      await Promise.resolve();
    }
    // 101 ids of 15 per block: seven blocks, each claimed once, in order.
    expect(ids.block).toBe(7);
    expect(claimed).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...seen].every((id) => Number.isSafeInteger(id))).toBe(true);
  });

  it('strings for sessions, connections and transfers come from the same numbers', async () => {
    const ids = await NodeIds.start(
      async () => 3,
      () => undefined,
    );
    expect(ids.session()).toBe(`s${3 * 2 ** 32 + 1}`);
    expect(ids.link()).toBe(`c${3 * 2 ** 32 + 2}`);
    expect(ids.transfer()).toBe(`t${3 * 2 ** 32 + 3}`);
    expect(ids.next()).toBe(3 * 2 ** 32 + 4);
  });

  it('stays within safe integers: the last block ends at 2^53 - 1, and one past it is refused', async () => {
    const last = 2 ** 21 - 1;
    const ids = await NodeIds.start(
      async () => last,
      () => undefined,
    );
    expect(ids.next()).toBe(last * 2 ** 32 + 1);
    await expect(
      NodeIds.start(
        async () => 2 ** 21,
        () => undefined,
      ),
    ).rejects.toThrow(/blocks run from 1 to 2097151/);
  });

  it('refuses to reuse ids when no next block could be claimed, and recovers once one is', async () => {
    let fail = true;
    let next = 1;
    const errors: unknown[] = [];
    const ids = await NodeIds.start(
      async () => {
        if (next > 1 && fail) throw new Error('store down');
        return next++;
      },
      (error) => errors.push(error),
      3,
    );
    const got = new Set<number>();
    const take = () => {
      const id = ids.next();
      expect(got.has(id)).toBe(false);
      got.add(id);
    };
    for (let i = 0; i < 7; i++) take();
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors.length).toBeGreaterThan(0);
    expect(() => ids.next()).toThrow(/whole id block/);
    expect(() => ids.next()).toThrow(/whole id block/);
    fail = false;
    await new Promise((resolve) => setImmediate(resolve));
    // Each refused call asks again; once that claim lands, numbering goes on in block 2.
    expect(() => ids.next()).toThrow(/whole id block/);
    await new Promise((resolve) => setImmediate(resolve));
    take();
    expect(ids.block).toBe(2);
  });
});

describe('node-safe ids on real servers', () => {
  let cluster: TestNodes | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await cluster?.dispose();
    cluster = undefined;
    await server?.dispose();
    server = undefined;
  });

  it('two nodes on one store hand out disjoint event, session, connection and transfer ids', async () => {
    cluster = await startTestNodes(2);
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    const atAlice = collect(alice);
    const atBob = collect(bob);
    // Each node stamps the events it makes: alice's node what alice says, bob's node what
    // bob says. On the old per-process counters both nodes started at 1.
    for (let i = 0; i < 5; i++) {
      await alice.request('say', { text: `a${i}` });
      await bob.request('say', { text: `b${i}` });
    }
    await alice.request('ping');
    await bob.request('ping');
    const idsOf = (events: ServerEvent[], from: string) =>
      events.flatMap((event) =>
        event.ev === 'message' && event.from === from && typeof event.id === 'number'
          ? [event.id]
          : [],
      );
    const stampedBy0 = idsOf(atBob, 'alice');
    const stampedBy1 = idsOf(atAlice, 'bob');
    expect(stampedBy0).toHaveLength(5);
    expect(stampedBy1).toHaveLength(5);
    expect(disjoint(stampedBy0, stampedBy1)).toBe(true);
    for (const events of [atAlice, atBob]) {
      const ids = events.flatMap((event) => ('id' in event ? [event.id] : []));
      expect(new Set(ids).size).toBe(ids.length);
    }
    const who = await alice.request<{ users: { session: string }[] }>('who');
    const sessions = who.users.map((user) => user.session);
    expect(new Set(sessions).size).toBe(2);
    expect(sessions.every((id) => /^s\d+$/.test(id))).toBe(true);
    // Connections and transfers are numbered from the same blocks.
    const [core0, core1] = cluster.nodes.map((node) => node.core);
    expect(core0!.ids.block).not.toBe(core1!.ids.block);
    const made0 = [core0!.ids.link(), core0!.ids.transfer(), core0!.ids.session()];
    const made1 = [core1!.ids.link(), core1!.ids.transfer(), core1!.ids.session()];
    expect(
      disjoint(
        made0.map((id) => id.slice(1)),
        made1.map((id) => id.slice(1)),
      ),
    ).toBe(true);
  });

  it('a restart never hands out an event, session or connection id of the run before', async () => {
    const dataDir = makeDataDir();
    try {
      const runs: { events: number[]; sessions: string[]; blocks: number }[] = [];
      for (let run = 0; run < 2; run++) {
        server = await startTestServer({ dataDir });
        const carol = await server.connect('carol');
        const dave = await server.connect('dave');
        const events = watch(dave);
        await carol.request('say', { text: 'hello' });
        await carol.request('create', { room: 'den' });
        await dave.request('join', { room: 'den' });
        await dave.request('ping');
        const who = await dave.request<{ users: { session: string }[] }>('who');
        runs.push({
          events,
          sessions: who.users.map((user) => user.session),
          blocks: server.server.core.ids.block,
        });
        await server.stop();
        server = undefined;
      }
      const [first, second] = runs;
      expect(first!.events.length).toBeGreaterThan(0);
      expect(second!.events.length).toBeGreaterThan(0);
      // The old counters started again at 1 (events) and `c1` (connections) after a restart.
      expect(disjoint(first!.events, second!.events)).toBe(true);
      expect(disjoint(first!.sessions, second!.sessions)).toBe(true);
      expect(second!.blocks).toBeGreaterThan(first!.blocks);
      expect(Math.min(...second!.events)).toBeGreaterThan(Math.max(...first!.events));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
