import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/protocol/events.js';
import { startClusterProcesses } from '../helpers/cluster-processes.js';
import { collect, until } from '../helpers/events.js';

// A node SIGKILLed takes its sessions with it unseen. Those resumed on another node within
// `resume.graceSeconds` carry on; the others must be announced gone by exactly one
// surviving node, as a dropped connection's session is on one node once its grace is over.
const PASSWORD = 'correct horse battery staple 9';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

const offline = (events: readonly ServerEvent[]) =>
  events.flatMap((event) => (event.ev === 'offline' ? [event] : []));

type SeenReply = { seen: { nick: string; online: boolean; lastSeen: number }[] };

describe('sessions of a dead node that nobody resumes (real processes)', () => {
  it('are announced offline once across the cluster, their names freed and their departures recorded', async () => {
    const cluster = await startClusterProcesses({
      count: 3,
      env: { CONFAB_RESUME_GRACE_SECONDS: '1', CONFAB_PRESENCE_RECENT_SECONDS: '3600' },
    });
    cleanups.push(() => cluster.dispose());
    const alice = await cluster.connect(0);
    await alice.login('alice');
    await alice.request('create', { room: 'den' });
    const dave = await cluster.connect(1);
    await dave.login('dave');
    // On the node that will die: a guest in a room, an account, and one who resumes.
    const bob = await cluster.connect(2);
    await bob.login('bob');
    await bob.request('join', { room: 'den' });
    const carol = await cluster.connect(2);
    await carol.login('carol');
    await carol.request('register', { password: PASSWORD });
    const erin = await cluster.connect(2);
    await erin.login('erin');
    await bob.request('say', { room: 'den', text: 'hello' });
    const atAlice = collect(alice);
    const atDave = collect(dave);

    const closed = erin.closed();
    await cluster.nodes[2]!.kill();
    const killedAt = Date.now();
    await closed;
    // Erin comes back through node 1 (once node 3's lease lapsed): not a leave.
    const erinAgain = await cluster.connect(0);
    await erinAgain.resume(erin.resumeToken!, erin.lastEventId, erin.lastMid);

    // Lease (6 s) + grace (1 s) + one sweep (2 s), and a margin for a loaded machine.
    await until(
      'the leaves of bob and carol',
      () => offline(atAlice).length >= 2 && offline(atDave).length >= 2,
      20_000,
    );
    // A second sweep by each node finds nothing more to announce.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    for (const events of [atAlice, atDave])
      expect(
        offline(events)
          .map((event) => ({ nick: event.nick, reason: event.reason }))
          .sort((a, b) => a.nick.localeCompare(b.nick)),
      ).toEqual([
        { nick: 'bob', reason: 'dropped' },
        { nick: 'carol', reason: 'dropped' },
      ]);

    // Their departures are known on every node, at the dead node's last sign of life.
    for (const client of [alice, dave]) {
      const { seen } = await client.request<SeenReply>('wholasthr');
      for (const nick of ['bob', 'carol']) {
        const entry = seen.find((each) => each.nick === nick);
        expect(entry, nick).toMatchObject({ online: false });
        expect(entry!.lastSeen).toBeGreaterThan(killedAt - 5_000);
        expect(entry!.lastSeen).toBeLessThanOrEqual(killedAt + 1_000);
      }
      expect(seen.find((each) => each.nick === 'erin')).toMatchObject({ online: true });
    }
    const whois = await dave.request<{ online: boolean; lastSeen: number }>('whois', {
      name: 'carol',
    });
    expect(whois.online).toBe(false);
    expect(whois.lastSeen).toBeGreaterThan(killedAt - 5_000);
    const { users } = await alice.request<{ users: { nick: string }[] }>('who');
    expect(users.map((user) => user.nick).sort()).toEqual(['alice', 'dave', 'erin']);
    const { members } = await alice.request<{ members: { nick: string }[] }>('members', {
      room: 'den',
    });
    expect(members.map((member) => member.nick)).toEqual(['alice']);

    // Nothing of node 3 is left in the directory, and the names are free.
    const redis = new Redis(cluster.redisUrl);
    cleanups.push(() => redis.disconnect());
    const entries = Object.values(await redis.hgetall(`${cluster.prefix}dir:s`)).map(
      (row) => JSON.parse(row) as { node: string },
    );
    expect(entries.filter((entry) => entry.node === 'node3')).toEqual([]);
    expect(await redis.exists(`${cluster.prefix}rs:node:node3`)).toBe(0);
    const newBob = await cluster.connect(1);
    await newBob.login('bob');
    const newCarol = await cluster.connect(0);
    await newCarol.login('carol', PASSWORD);
  }, 60_000);

  it("an account's private messages sent after its connection died come at its next login, as missed", async () => {
    const cluster = await startClusterProcesses({
      count: 3,
      env: { CONFAB_RESUME_GRACE_SECONDS: '1' },
    });
    cleanups.push(() => cluster.dispose());
    const alice = await cluster.connect(0);
    await alice.login('alice');
    const atAlice = collect(alice);
    // Two accounts on the node that will die: carol connected to the end, frank away
    // (his connection dropped first; his session waits there to be resumed).
    const carol = await cluster.connect(2);
    await carol.login('carol');
    await carol.request('register', { password: PASSWORD });
    const frank = await cluster.connect(2);
    await frank.login('frank');
    await frank.request('register', { password: PASSWORD });
    const seen = carol.waitFor((e) => e.ev === 'private' && e.text === 'c0');
    await alice.request('msg', { to: ['carol'], text: 'c0' });
    await seen;
    // What carol got before her node's last sign of life (its last lease renewal) is not
    // shown again: one such renewal comes after it. (One that comes after that renewal,
    // in the node's last moments, may be: at least once.)
    const redis = new Redis(cluster.redisUrl);
    cleanups.push(() => redis.disconnect());
    const c0At = Date.now();
    await until('a renewal of node 3 after c0', async () => {
      return Number(await redis.get(`${cluster.prefix}seen:node3`)) > c0At + 500;
    });
    frank.destroy();
    await until('frank away', async () => {
      const { users } = await alice.request<{ users: { nick: string; status: string }[] }>('who');
      return users.some((user) => user.nick === 'frank' && user.status === 'away');
    });
    // Delivered "live" into his session's log on node 3, which dies with it.
    await alice.request('msg', { to: ['frank'], text: 'f1' });

    const closed = carol.closed();
    await cluster.nodes[2]!.kill();
    await closed;
    // Both still held by node 3 until its lease lapses: sent to a node that is gone.
    await alice.request('msg', { to: ['carol'], text: 'c2' });
    await alice.request('msg', { to: ['frank', 'carol'], text: 'f2' });
    await until('the leaves of carol and frank', () => offline(atAlice).length >= 2, 20_000);
    // Offline now: stored, as for any account away.
    await alice.request('msg', { to: ['carol'], text: 'c3' });

    const privates = async (node: number, nick: string) => {
      const client = await cluster.connect(node);
      const events = collect(client);
      await client.login(nick, PASSWORD);
      await client.request('ping');
      return events.flatMap((e) => (e.ev === 'private' ? [[e.text, e.replay]] : []));
    };
    expect(await privates(0, 'carol')).toEqual([
      ['c2', 'missed'],
      ['f2', 'missed'],
      ['c3', 'missed'],
    ]);
    expect(await privates(1, 'frank')).toEqual([
      ['f1', 'missed'],
      ['f2', 'missed'],
    ]);
  }, 60_000);
});
