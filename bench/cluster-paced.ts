import { ChatClient } from '../src/client/client.js';
import type { Running, ServiceCpu } from './cluster-nodes.js';
import { nowMicros } from './lean-client.js';
import { sleep } from './measure.js';
import { LatencyHistogram } from './stats.js';

// Loads at a set rate, the question issue 17's target asks ("cross-node p99 at most 50 ms at
// 10,000 deliveries/s"): messages leave evenly spaced, each stamped with when it left and
// from which node, and every receiver records its latency as cross-node or same-node.
// A load at the maximum (cluster-scenario.ts) measures queueing instead.

export const PACED_ROOM = 'paced';

export interface PacedLoad {
  /** Messages meant to be sent, at `rate` a second. */
  readonly messages: number;
  readonly rate: number;
  readonly deliveries: number;
  readonly expected: number;
  /** Receivers on another node than the sender's, and on the same one. */
  readonly cross: LatencyHistogram;
  readonly same: LatencyHistogram;
  /** How late each message left against its slot (the bench process's own delay, µs). */
  readonly lag: LatencyHistogram;
  /** From the first slot to the last delivery (or the wait's end). */
  readonly seconds: number;
  readonly failed: number;
  readonly firstFailure: string | undefined;
  /** CPU (µs) over the load: each node, the bench process, PostgreSQL's backends, Redis. */
  readonly nodeCpu: readonly number[];
  readonly clientCpu: number;
  readonly serviceCpu: ServiceCpu;
}

interface Member {
  readonly client: ChatClient;
  readonly node: number;
}

/** Text `p:<sent at, µs>:<sender's node>`; the receiver knows its own node. */
function listen(
  member: Member,
  ev: 'message' | 'private',
  load: { cross: LatencyHistogram; same: LatencyHistogram },
) {
  let count = 0;
  member.client.on('event', (event) => {
    if (event.ev !== ev || !event.text.startsWith('p:')) return;
    const at = nowMicros();
    const [, sent, node] = event.text.split(':');
    (Number(node) === member.node ? load.same : load.cross).record(at - Number(sent));
    count++;
  });
  return () => count;
}

/**
 * Sends `total` messages at `rate` a second: each tick sends those whose slot has come,
 * so a late tick catches up rather than shifting the schedule. Bounded by `total`.
 */
async function pace(
  total: number,
  rate: number,
  lag: LatencyHistogram,
  send: (index: number) => void,
): Promise<void> {
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - started) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      lag.record((now - (started + (sent * 1000) / rate)) * 1000);
      send(sent);
    }
    await sleep(1);
  }
}

async function connect(running: Running, node: number, nick: string): Promise<Member> {
  const client = await ChatClient.connect({ host: '127.0.0.1', port: running.ports[node]! });
  await client.login(nick);
  return { client, node };
}

async function measured(
  running: Running,
  counts: Array<() => number>,
  expected: number,
  send: (lag: LatencyHistogram, failed: (error: unknown) => void) => Promise<void>,
): Promise<Omit<PacedLoad, 'messages' | 'rate' | 'cross' | 'same'>> {
  const lag = new LatencyHistogram();
  let failed = 0;
  let firstFailure: string | undefined;
  const fail = (error: unknown) => {
    failed++;
    firstFailure ??= error instanceof Error ? error.message : String(error);
  };
  const nodeBefore = running.cpuMicros();
  const serviceBefore = await running.serviceCpuMicros();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await send(lag, fail);
  const total = () => counts.reduce((sum, count) => sum + count(), 0);
  // Whatever is still queued somewhere arrives, or is given up on after 30 s.
  const deadline = Date.now() + 30_000;
  while (total() < expected && Date.now() < deadline) await sleep(10);
  const seconds = (performance.now() - started) / 1000;
  const nodeAfter = running.cpuMicros();
  const serviceAfter = await running.serviceCpuMicros();
  const client = process.cpuUsage(clientBefore);
  return {
    deliveries: total(),
    expected,
    lag,
    seconds,
    failed,
    firstFailure,
    nodeCpu: nodeAfter.map((micros, node) => micros - nodeBefore[node]!),
    clientCpu: client.user + client.system,
    serviceCpu: {
      postgres: serviceAfter.postgres - serviceBefore.postgres,
      redis: serviceAfter.redis - serviceBefore.redis,
    },
  };
}

/**
 * Private messages at `rate` a second from `pairs` senders on the first node, each to its
 * own receiver on the last (across nodes when there are two), for `seconds`.
 */
export async function pacedPrivate(
  running: Running,
  pairs: number,
  rate: number,
  seconds: number,
): Promise<PacedLoad> {
  const last = running.ports.length - 1;
  const senders: Member[] = [];
  const receivers: Member[] = [];
  const histograms = { cross: new LatencyHistogram(), same: new LatencyHistogram() };
  const counts: Array<() => number> = [];
  for (let i = 0; i < pairs; i++) {
    senders.push(await connect(running, 0, `ps${rate}x${i}`));
    const receiver = await connect(running, last, `pr${rate}x${i}`);
    counts.push(listen(receiver, 'private', histograms));
    receivers.push(receiver);
  }
  const messages = Math.round(rate * seconds);
  try {
    const load = await measured(running, counts, messages, (lag, fail) =>
      pace(messages, rate, lag, (index) => {
        const pair = index % pairs;
        senders[pair]!.client.request('msg', {
          to: [`pr${rate}x${pair}`],
          text: `p:${nowMicros()}:0`,
        }).catch(fail);
      }),
    );
    return { ...load, ...histograms, messages, rate };
  } finally {
    for (const member of [...senders, ...receivers]) member.client.destroy();
  }
}

/**
 * A room of `members` spread evenly over the nodes; `senders` of them (spread likewise)
 * take turns to send, `deliveriesPerSecond / (members - 1)` messages a second in all.
 */
export async function pacedRoom(
  running: Running,
  members: number,
  senders: number,
  deliveriesPerSecond: number,
  seconds: number,
): Promise<PacedLoad> {
  const nodes = running.ports.length;
  const room = `${PACED_ROOM}${deliveriesPerSecond}`;
  const everyone: Member[] = [];
  for (let i = 0; i < members; i++)
    everyone.push(await connect(running, i % nodes, `pm${deliveriesPerSecond}x${i}`));
  try {
    await everyone[0]!.client.request('create', { room });
    // The reply comes once every node knows the room (the creation's barrier).
    for (const member of everyone.slice(1)) await member.client.request('join', { room });
    const histograms = { cross: new LatencyHistogram(), same: new LatencyHistogram() };
    const counts = everyone.map((member) => listen(member, 'message', histograms));
    const rate = deliveriesPerSecond / (members - 1);
    const messages = Math.round(rate * seconds);
    const load = await measured(running, counts, messages * (members - 1), (lag, fail) =>
      pace(messages, rate, lag, (index) => {
        const sender = everyone[index % senders]!;
        sender.client.request('say', { room, text: `p:${nowMicros()}:${sender.node}` }).catch(fail);
      }),
    );
    return { ...load, ...histograms, messages, rate };
  } finally {
    for (const member of everyone) member.client.destroy();
  }
}
