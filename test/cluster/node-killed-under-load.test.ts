import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient, RequestError } from '../../src/client/client.js';
import type { ServerEvent } from '../../src/protocol/events.js';
import {
  startBalancer,
  startClusterProcesses,
  type ClusterProcesses,
} from '../helpers/cluster-processes.js';
import { TEST_PG_URL } from '../helpers/postgres.js';

// Issue 17, item 7's first fault, whole: three `confab serve` processes on PostgreSQL and
// Redis behind the README's HAProxy recipe (PROXY protocol v2), clients on every node
// sending under a bounded load, one node SIGKILLed. Its clients reconnect through the
// balancer and resume on a node alive; every acknowledged message is stored once; nobody
// sees more than the move.
const PASSWORD = 'correct horse battery staple 9';
const USERS = 6;
/** One request in flight per client, one every this many ms: about 60 messages a second. */
const PACE_MS = 100;
const KILL_AFTER_MS = 2_500;
/** Sending goes on this long after the kill, so the moved clients send again after resuming. */
const LOAD_AFTER_KILL_MS = 12_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sent {
  readonly text: string;
  readonly mid: number;
  readonly from: string;
  /** The recipient of a private message; null for the room. */
  readonly to: string | null;
  readonly ackedAt: number;
}

interface User {
  readonly nick: string;
  client: ChatClient;
  node: string;
  /** Every event received, on every connection it had. */
  readonly events: ServerEvent[];
  moving: boolean;
  /** For a moved user: what its resume said it had. */
  seenMid?: number;
  resumedAt?: number;
}

async function through(port: number, user: Pick<User, 'events'>): Promise<ChatClient> {
  const client = await ChatClient.connect({ host: '127.0.0.1', port });
  cleanups.push(() => client.destroy());
  client.on('event', (event) => user.events.push(event));
  return client;
}

/** Texts of the chat messages among `events`, with how often each came. */
function counts(events: readonly ServerEvent[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const event of events)
    if (event.ev === 'message' || event.ev === 'private')
      seen.set(event.text, (seen.get(event.text) ?? 0) + 1);
  return seen;
}

describe('a node SIGKILLed under load behind HAProxy', () => {
  it('moves its clients to the nodes alive by resume; every acknowledged message stored once, delivered once', async () => {
    const cluster: ClusterProcesses = await startClusterProcesses({
      count: 3,
      env: { CONFAB_TRUSTED_PROXIES: '127.0.0.1' },
    });
    cleanups.push(() => cluster.dispose());
    const balancer = await startBalancer(cluster.nodes, { proxyProtocol: true });
    cleanups.push(() => balancer.stop());

    const users: User[] = [];
    for (let i = 0; i < USERS; i++) {
      const user = { nick: `user${i}`, events: [] as ServerEvent[], moving: false } as User;
      user.client = await through(balancer.port, user);
      await user.client.login(user.nick);
      await user.client.request('register', { password: PASSWORD });
      await user.client.request(i === 0 ? 'create' : 'join', { room: 'load' });
      user.node = user.client.hello.server;
      users.push(user);
    }
    // leastconn: two on each node.
    expect(new Set(users.map((user) => user.node)).size).toBe(3);
    const doomed = cluster.nodes.find((node) => node.id === users[0]!.node)!;
    const onDoomed = users.filter((user) => user.node === doomed.id);
    const stayed = users.filter((user) => user.node !== doomed.id);
    // What the logins set off has arrived everywhere before the counting starts.
    await sleep(300);
    for (const user of users) await user.client.request('ping');
    for (const user of users) user.events.length = 0;

    const sent: Sent[] = [];
    let killedAt = 0;
    const started = Date.now();
    const loadEnd = started + KILL_AFTER_MS + LOAD_AFTER_KILL_MS;

    /** A moved user's way back: through the balancer, resume, until it holds again. */
    const moveBack = async (user: User) => {
      const old = user.client;
      for (let attempt = 0; attempt < 80; attempt++) {
        let client: ChatClient | undefined;
        try {
          client = await through(balancer.port, user);
          await client.resume(old.resumeToken!, old.lastEventId, old.lastMid);
        } catch (error) {
          client?.destroy();
          // The token was refused: the session is lost, which is what this test is about.
          if (error instanceof RequestError) throw error;
          await sleep(250);
          continue;
        }
        user.seenMid = old.lastMid;
        user.client = client;
        user.node = client.hello.server;
        user.resumedAt = Date.now();
        user.moving = false;
        return;
      }
      throw new Error(`${user.nick} could not get back in`);
    };

    const load = async (user: User, index: number) => {
      for (let i = 0; Date.now() < loadEnd; i++) {
        if (!user.moving) {
          const client = user.client;
          const to = i % 2 === 1 ? users[(index + 1) % USERS]!.nick : null;
          const text = `${user.nick} ${to ? 'to ' + to : 'in load'} #${i}`;
          try {
            const reply = await client.request<{ mid: number }>(
              to ? 'msg' : 'say',
              to ? { to: [to], text } : { room: 'load', text },
            );
            sent.push({ text, mid: reply.mid, from: user.nick, to, ackedAt: Date.now() });
          } catch {
            // Not acknowledged (its node died with it in flight): not counted, not sent again.
          }
        }
        await sleep(PACE_MS);
      }
    };
    // Any client cut off comes back the same way, as the terminal client would: those of the
    // killed node, and any other that the balancer cuts (a node whose health check is slow
    // under load is marked down, on-marked-down shutdown-sessions); those are counted.
    const moves: Promise<void>[] = [];
    const unexpectedMoves: string[] = [];
    const follow = (user: User): void => {
      user.client.once('close', (info) => {
        if (info.byClient) return;
        if (!onDoomed.includes(user) || user.resumedAt !== undefined)
          unexpectedMoves.push(`${user.nick} (${info.code ?? info.message})`);
        user.moving = true;
        moves.push(moveBack(user).then(() => follow(user)));
      });
    };
    for (const user of users) follow(user);
    const loads = users.map((user, index) => load(user, index));
    await sleep(KILL_AFTER_MS);
    await doomed.kill();
    killedAt = Date.now();
    await Promise.all(loads);
    // One at a time: a move may add another (a client cut again after coming back).
    for (let i = 0; i < moves.length; i++) await moves[i];
    // Whatever is on its way arrives: every client's node answered a ping after it.
    await sleep(500);
    for (const user of users) await user.client.request('ping');

    // The move happened, and within the cluster's 15 s.
    for (const user of onDoomed) {
      expect(user.resumedAt).toBeDefined();
      expect(user.node).not.toBe(doomed.id);
    }
    const backWithinMs = Math.max(...onDoomed.map((user) => user.resumedAt! - killedAt));
    console.log(
      `${sent.length} messages acknowledged; clients of the killed node back on another node ${backWithinMs} ms after SIGKILL` +
        (unexpectedMoves.length > 0 ? `; also cut and resumed: ${unexpectedMoves.join(', ')}` : ''),
    );
    expect(backWithinMs).toBeLessThan(15_000);
    // Both moved clients sent again after coming back, and so did the others.
    for (const user of users)
      expect(sent.some((m) => m.from === user.nick && m.ackedAt > killedAt + 8_000)).toBe(true);

    // Stored once: every acknowledged message is in the room's history or the recipient's
    // inbox exactly once, and nothing is stored twice.
    const sql = postgres(`${TEST_PG_URL}`, { max: 1, onnotice: () => undefined });
    cleanups.push(() => sql.end({ timeout: 2 }));
    const rows = await sql.unsafe<
      { text: string; room: string | null; recipient: string | null }[]
    >(
      `SELECT m.text, m.room, r.recipient
         FROM "${cluster.schema}".messages m
         LEFT JOIN "${cluster.schema}".message_recipients r ON r.message_id = m.id
         JOIN "${cluster.schema}".accounts a ON a.id = m.sender_account`,
    );
    const stored = new Map<string, number>();
    for (const row of rows) stored.set(row.text, (stored.get(row.text) ?? 0) + 1);
    for (const message of sent) expect(stored.get(message.text), message.text).toBe(1);
    expect([...stored.values()].every((count) => count === 1)).toBe(true);

    const byText = new Map(sent.map((message) => [message.text, message]));
    const meant = (user: User) =>
      sent.filter((m) => m.from !== user.nick && (m.to === null || m.to === user.nick));
    for (const user of users) {
      const got = counts(user.events);
      // Nothing twice, to anyone: acknowledged or not.
      for (const [text, count] of got) expect(count, `${user.nick} got "${text}"`).toBe(1);
      const missing = meant(user).filter((message) => !got.has(message.text));
      if (stayed.includes(user)) {
        expect(
          missing.map((m) => m.text),
          `${user.nick} missed`,
        ).toEqual([]);
        // Others saw nothing but the move: no one left, no one came back.
        expect(
          user.events.filter((e) => e.ev === 'offline' || e.ev === 'online'),
          user.nick,
        ).toEqual([]);
      } else {
        console.log(`${user.nick} moved: ${missing.length} of ${meant(user).length} missing`);
        // A moved client gets what was said while it moved, rebuilt from the store after
        // the newest message id it had; only one sent on another node just before the
        // kill, with a lower id but still on its way, may be missing (protocol.md).
        for (const message of missing) {
          expect(message.mid, `${user.nick} missed "${message.text}"`).toBeLessThan(user.seenMid!);
          expect(Math.abs(byText.get(message.text)!.ackedAt - killedAt)).toBeLessThan(1_000);
        }
      }
    }
  }, 90_000);
});
