import { afterEach, describe, expect, it } from 'vitest';
import type { Answer, Query } from '../../src/bus/bus.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import type { RunningServer } from '../../src/server/server.js';
import { collect, failure, until } from '../helpers/events.js';
import { startRedisNodes, type RedisNodes } from '../helpers/redis-nodes.js';

// A resume on another node asks the session's node to hand it over. That node may be slow
// (a long collection, a loaded machine) and answer after the asker's 2 s request timeout.
// Neither outcome may leave the session's directory entry behind, holding its nickname
// for a session that exists nowhere.
let cluster: RedisNodes | undefined;
afterEach(async () => {
  await cluster?.dispose();
  cluster = undefined;
});

/** Node `node` answers the hand-over of each of these sessions only after its delay. */
function slowTakeovers(node: RunningServer, delays: ReadonlyMap<string, number>): void {
  // The test's seam: the node's answering function, wrapped (it is private to NodeLink).
  const link = node.core.nodes as unknown as {
    answer(query: Query): Answer | Promise<Answer>;
  };
  const answer = link.answer.bind(link);
  link.answer = (query) => {
    const delay = query.type === 'resume-takeover' ? delays.get(query.session) : undefined;
    if (delay === undefined) return answer(query);
    return new Promise((resolve) => setTimeout(() => resolve(answer(query)), delay));
  };
}

const offline = (events: readonly ServerEvent[]) =>
  events.flatMap((event) => (event.ev === 'offline' ? [`${event.nick} ${event.reason}`] : []));

describe('a resume whose old node answers late (PostgreSQL and Redis)', () => {
  it('waits for a slow answer, and a too-late one frees the nickname and announces the leave', async () => {
    cluster = await startRedisNodes(2);
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    const carol = await cluster.connect(1, 'carol');
    const atAlice = collect(alice);
    // Bob's node answers 3 s late (past the request timeout, within the lease's wait);
    // carol's 12 s late (past every wait: her resume fails).
    slowTakeovers(
      cluster.nodes[1]!,
      new Map([
        [bob.sessionId!, 3_000],
        [carol.sessionId!, 12_000],
      ]),
    );
    const bobAgain = await cluster.open(0);
    const carolAgain = await cluster.open(0);
    const [bobResumed, carolRefused] = await Promise.all([
      bobAgain.resume(bob.resumeToken!, bob.lastEventId, bob.lastMid),
      failure(carolAgain.resume(carol.resumeToken!, carol.lastEventId, carol.lastMid)),
    ]);

    expect(bobResumed).toMatchObject({ nick: 'bob', session: bob.sessionId, resumed: true });
    const atBob = collect(bobAgain);
    await alice.request('say', { text: 'still here?' });
    await until(
      'the message at the resumed bob',
      () => atBob.some((e) => e.ev === 'message' && e.text === 'still here?'),
      5_000,
    );
    expect((await cluster.nodes[0]!.core.directory.find('bob'))?.node).toBe('node-0');

    expect(carolRefused.code).toBe('resume_failed');
    // Her old node hands her over at last, to a node no longer waiting: the session ends,
    // seen by everyone as a dropped one, and her nickname is free again.
    await until('carol’s leave', () => offline(atAlice).length > 0, 10_000);
    await until(
      'carol’s entry gone',
      async () => (await cluster!.nodes[0]!.core.directory.find('carol')) === undefined,
      5_000,
    );
    const carolNew = await cluster.open(0);
    await carolNew.login('carol');
    await alice.request('ping');
    expect(offline(atAlice)).toEqual(['carol dropped']);
  }, 40_000);
});
