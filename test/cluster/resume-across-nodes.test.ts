import { afterEach, describe, expect, it } from 'vitest';
import { RequestError } from '../../src/client/client.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import { startClusterProcesses } from '../helpers/cluster-processes.js';
import { collect, until } from '../helpers/events.js';

// Resume across nodes with real `confab serve` processes on PostgreSQL and Redis: the
// session's record is in Redis, its old node hands it over when alive, and when it was
// SIGKILLed the new node waits for its lease to lapse and rebuilds what was missed from
// the store.
const PASSWORD = 'correct horse battery staple 9';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

/** Texts of the messages (room and private) among `events`, in arrival order. */
const texts = (events: readonly ServerEvent[]) =>
  events.flatMap((event) => (event.ev === 'message' || event.ev === 'private' ? [event.text] : []));

describe('resume across nodes (real processes, PostgreSQL and Redis)', () => {
  it('resumes on another node while the first is alive, and after it was SIGKILLed: every message sent meanwhile once', async () => {
    const cluster = await startClusterProcesses({ count: 3 });
    cleanups.push(() => cluster.dispose());
    const alice = await cluster.connect(1);
    await alice.login('alice');
    await alice.request('create', { room: 'den' });
    const bob = await cluster.connect(0);
    await bob.login('bob');
    await bob.request('register', { password: PASSWORD });
    await bob.request('join', { room: 'den' });
    const atAlice = collect(alice);

    // 1. Bob's connection drops; he comes back through node 3 while node 1 is alive.
    const one = bob.waitFor((e) => e.ev === 'message' && e.text === 'one');
    await alice.request('say', { text: 'one' });
    await one;
    bob.destroy();
    await until('bob away', async () => {
      const { users } = await alice.request<{ users: { nick: string; status: string }[] }>('who');
      return users.some((user) => user.nick === 'bob' && user.status === 'away');
    });
    await alice.request('say', { text: 'two' });
    await alice.request('msg', { to: ['bob'], text: 'three' });
    await alice.request('say', { room: 'den', text: 'four' });
    const back = await cluster.connect(2);
    const atBack = collect(back);
    const ready = await back.resume(bob.resumeToken!, bob.lastEventId, bob.lastMid);
    expect(ready).toMatchObject({ nick: 'bob', session: bob.sessionId, resumed: true });
    await alice.request('say', { room: 'den', text: 'five' });
    await until('five', () => texts(atBack).includes('five'));
    expect(texts(atBack)).toEqual(['two', 'three', 'four', 'five']);
    expect((await cluster.holder('bob'))?.node).toBe('node3');

    // 2. Node 3 dies under him (SIGKILL: no goodbye, its lease left to lapse). Messages
    // sent meanwhile, to his rooms and to him, are rebuilt from the store by node 2.
    const six = back.waitFor((e) => e.ev === 'message' && e.text === 'six');
    await alice.request('say', { room: 'den', text: 'six' });
    await six;
    const closed = back.closed();
    await cluster.nodes[2]!.kill();
    const killedAt = Date.now();
    await closed;
    await alice.request('say', { text: 'seven' });
    await alice.request('msg', { to: ['bob'], text: 'eight' });
    await alice.request('say', { room: 'den', text: 'nine' });
    const again = await cluster.connect(1);
    const atAgain = collect(again);
    await again.resume(back.resumeToken!, back.lastEventId, back.lastMid);
    const resumedAfterMs = Date.now() - killedAt;
    await alice.request('say', { room: 'den', text: 'ten' });
    await until('ten', () => texts(atAgain).includes('ten'));
    expect(texts(atAgain)).toEqual(['seven', 'eight', 'nine', 'ten']);
    expect(
      atAgain.filter((e) => e.ev === 'message' || e.ev === 'private').map((e) => e.replay),
    ).toEqual(['missed', 'missed', 'missed', undefined]);
    expect(atAgain.find((e) => e.ev === 'room_entered')).toMatchObject({
      room: 'den',
      restored: true,
    });
    // What a rebuilt replay cannot have is said, once: an account's messages all came.
    const notices = atAgain.flatMap((e) => (e.ev === 'notice' ? [e.text] : []));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/joins, leaves, topic changes and notices from then are missing/);
    expect(notices[0]).not.toMatch(/private messages|some messages/);
    // Back within the lease (6 s) and a little: well inside the cluster's 15 s.
    expect(resumedAfterMs).toBeLessThan(15_000);
    expect((await cluster.holder('bob'))?.node).toBe('node2');
    // Nobody saw him leave or come back, and he is one session, on node 2.
    expect(atAlice.filter((e) => e.ev === 'offline' || e.ev === 'online')).toEqual([]);
    const { users } = await alice.request<{ users: { nick: string; status: string }[] }>('who');
    expect(users.filter((user) => user.nick === 'bob')).toHaveLength(1);
    // Spent tokens resume nothing.
    const late = await cluster.connect(0);
    const refused = await late.resume(back.resumeToken!).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(RequestError);
    expect((refused as RequestError).code).toBe('resume_failed');
  }, 60_000);

  it("replays a guest's private messages after its node was SIGKILLed: each once, none of before", async () => {
    const cluster = await startClusterProcesses({ count: 2 });
    cleanups.push(() => cluster.dispose());
    const alice = await cluster.connect(0);
    await alice.login('alice');
    const erin = await cluster.connect(0);
    await erin.login('erin');
    const carol = await cluster.connect(1);
    await carol.login('carol');
    // What she had before her node died is not replayed.
    const before = carol.waitFor((e) => e.ev === 'private' && e.text === 'p2');
    await alice.request('msg', { to: ['carol'], text: 'p1' });
    await erin.request('msg', { to: ['carol', 'alice'], text: 'p2' });
    await before;

    const closed = carol.closed();
    await cluster.nodes[1]!.kill();
    await closed;
    // Sent while her entry still names the dead node (its lease has not lapsed): each is
    // stored for her and published to a node that is gone.
    await alice.request('msg', { to: ['carol'], text: 'p3' });
    await alice.request('say', { text: 'r4' });
    await erin.request('msg', { to: ['carol', 'alice'], text: 'p5' });
    const again = await cluster.connect(0);
    const atAgain = collect(again);
    const ready = await again.resume(carol.resumeToken!, carol.lastEventId, carol.lastMid);
    expect(ready).toMatchObject({ nick: 'carol', session: carol.sessionId, resumed: true });
    await alice.request('msg', { to: ['carol'], text: 'p6' });
    await until('p6', () => texts(atAgain).includes('p6'));
    expect(texts(atAgain)).toEqual(['p3', 'r4', 'p5', 'p6']);
    expect(
      atAgain.filter((e) => e.ev === 'message' || e.ev === 'private').map((e) => e.replay),
    ).toEqual(['missed', 'missed', 'missed', undefined]);
    expect(atAgain.find((e) => e.ev === 'private' && e.text === 'p5')).toMatchObject({
      from: 'erin',
      to: ['alice', 'carol'],
    });
    // The notice no longer says her private messages are missing.
    const notices = atAgain.flatMap((e) => (e.ev === 'notice' ? [e.text] : []));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/joins, leaves, topic changes and notices from then are missing/);
    expect(notices[0]).not.toMatch(/private messages|some messages/);
  }, 60_000);
});
