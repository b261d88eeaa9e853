import { ChatClient } from '../src/client/client.js';
import {
  failover,
  FAILOVER_GRACE_SECONDS,
  FAILOVER_LOAD_RATE,
  type FailoverResult,
} from './cluster-failover.js';
import { SETUPS, startSetup, type Running, type ServiceCpu, type Setup } from './cluster-nodes.js';
import { pacedPrivate, pacedRoom, type PacedLoad } from './cluster-paced.js';
import { nowMicros } from './lean-client.js';
import { sleep, type Row, type RunContext, type ScenarioResult } from './measure.js';
import { formatCount, formatMicros, LatencyHistogram } from './stats.js';

// `npm run bench -- cluster`: room fan-out and private messages across two nodes on
// PostgreSQL and Redis, beside one node on SQLite and one on PostgreSQL, at the maximum
// (here) and at set rates (cluster-paced.ts); then a node killed under load behind HAProxy
// (cluster-failover.ts). Real `confab serve` processes; the clients run in this process
// (ChatClient).

interface Load {
  readonly latency: LatencyHistogram;
  readonly deliveries: number;
  readonly expected: number;
  readonly seconds: number;
  /** Requests refused or cut off (a closed connection, `storage_failed`): counted, not fatal. */
  readonly failed: number;
  /** Why the first one failed, to say in the table. */
  readonly firstFailure: string | undefined;
  /** Server CPU (µs, each node) from the first send until the last delivery. */
  readonly serverCpuMicros: readonly number[];
  /** The same for this process, whose clients send and receive. */
  readonly clientCpuMicros: number;
  readonly serviceCpu: ServiceCpu;
}

/** Counts refused requests instead of letting one end the whole benchmark run. */
function failureCounter() {
  let failed = 0;
  let first: string | undefined;
  return {
    note: (error: unknown) => {
      failed++;
      first ??= error instanceof Error ? error.message : String(error);
    },
    get failed() {
      return failed;
    },
    get first() {
      return first;
    },
  };
}

/** Messages carry `b:<sent at, µs>`; receivers record the difference. */
function listen(client: ChatClient, ev: 'message' | 'private', latency: LatencyHistogram) {
  let count = 0;
  client.on('event', (event) => {
    if (event.ev !== ev || !event.text.startsWith('b:')) return;
    latency.record(nowMicros() - Number(event.text.slice(2)));
    count++;
  });
  return () => count;
}

async function settle(counts: Array<() => number>, expected: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (counts.reduce((sum, count) => sum + count(), 0) < expected && Date.now() < deadline)
    await sleep(20);
}

/**
 * `members` spread over the nodes in a room; two senders (one on each node when there are
 * two) send `perSender` messages each as fast as they go. `name` tells this load's nicknames
 * and room from another's on the same nodes.
 */
async function fanout(
  running: Running,
  members: number,
  perSender: number,
  name = 'bench',
): Promise<Load> {
  const clients: ChatClient[] = [];
  for (let i = 0; i < members; i++) {
    const client = await ChatClient.connect({
      host: '127.0.0.1',
      port: running.ports[i % running.ports.length]!,
    });
    await client.login(`${name}m${i}`);
    clients.push(client);
  }
  await clients[0]!.request('create', { room: name });
  for (const client of clients.slice(1))
    for (let attempt = 0; ; attempt++) {
      try {
        await client.request('join', { room: name });
        break;
      } catch (error) {
        // Other nodes learn of the room a moment later.
        if (attempt > 100) throw error;
        await sleep(10);
      }
    }
  const latency = new LatencyHistogram();
  const counts = clients.map((client) => listen(client, 'message', latency));
  // Two senders, one on each node when there are two.
  const senders = [clients[0]!, clients[1]!];
  const expected = senders.length * perSender * (members - 1);
  const failures = failureCounter();
  const cpuBefore = running.cpuMicros();
  const serviceBefore = await running.serviceCpuMicros();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < perSender; i++) {
    for (const sender of senders)
      sender.request('say', { room: name, text: `b:${nowMicros()}` }).catch(failures.note);
    if (i % 10 === 9) await sleep(5);
  }
  await settle(counts, expected);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = running.cpuMicros();
  const serviceCpu = since(serviceBefore, await running.serviceCpuMicros());
  const clientCpu = process.cpuUsage(clientBefore);
  for (const client of clients) client.destroy();
  return {
    latency,
    deliveries: counts.reduce((sum, count) => sum + count(), 0),
    expected,
    seconds,
    failed: failures.failed,
    firstFailure: failures.first,
    serverCpuMicros: cpuAfter.map((micros, node) => micros - cpuBefore[node]!),
    clientCpuMicros: clientCpu.user + clientCpu.system,
    serviceCpu,
  };
}

async function privateMessages(
  running: Running,
  pairs: number,
  perPair: number,
  name = 'p',
): Promise<Load> {
  const last = running.ports.length - 1;
  const senders: ChatClient[] = [];
  const receivers: ChatClient[] = [];
  const latency = new LatencyHistogram();
  const counts: Array<() => number> = [];
  for (let i = 0; i < pairs; i++) {
    // Sender on the first node, receiver on the last: across nodes when there are two.
    const sender = await ChatClient.connect({ host: '127.0.0.1', port: running.ports[0]! });
    await sender.login(`${name}s${i}`);
    const receiver = await ChatClient.connect({ host: '127.0.0.1', port: running.ports[last]! });
    await receiver.login(`${name}r${i}`);
    counts.push(listen(receiver, 'private', latency));
    senders.push(sender);
    receivers.push(receiver);
  }
  const expected = pairs * perPair;
  const failures = failureCounter();
  const cpuBefore = running.cpuMicros();
  const serviceBefore = await running.serviceCpuMicros();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < perPair; i++) {
    senders.forEach((sender, index) => {
      sender
        .request('msg', { to: [`${name}r${index}`], text: `b:${nowMicros()}` })
        .catch(failures.note);
    });
    await sleep(5);
  }
  await settle(counts, expected);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = running.cpuMicros();
  const serviceCpu = since(serviceBefore, await running.serviceCpuMicros());
  const clientCpu = process.cpuUsage(clientBefore);
  for (const client of [...senders, ...receivers]) client.destroy();
  return {
    latency,
    deliveries: counts.reduce((sum, count) => sum + count(), 0),
    expected,
    seconds,
    failed: failures.failed,
    firstFailure: failures.first,
    serverCpuMicros: cpuAfter.map((micros, node) => micros - cpuBefore[node]!),
    clientCpuMicros: clientCpu.user + clientCpu.system,
    serviceCpu,
  };
}

function since(before: ServiceCpu, after: ServiceCpu): ServiceCpu {
  return { postgres: after.postgres - before.postgres, redis: after.redis - before.redis };
}

/** CPU per delivery: the nodes (each), this process's clients, PostgreSQL, Redis. */
function cpuSplit(
  deliveries: number,
  nodes: readonly number[],
  clients: number,
  service: ServiceCpu,
  store: Setup['store'],
): string {
  const each = (micros: number) => formatMicros(micros / Math.max(1, deliveries));
  const total = nodes.reduce((sum, micros) => sum + micros, 0);
  const parts = [
    `nodes ${each(total)}${nodes.length > 1 ? ` (${nodes.map(each).join(' + ')})` : ''}`,
    `clients ${each(clients)}`,
  ];
  if (store === 'postgres') parts.push(`PostgreSQL ${each(service.postgres)}`);
  if (nodes.length > 1) parts.push(`Redis ${each(service.redis)}`);
  return parts.join(', ');
}

function rows(setup: Setup, label: string, load: Load): Row[] {
  return [
    {
      metric: `${label}: deliveries/s`,
      value:
        `${formatCount(load.deliveries / load.seconds)} (${load.deliveries} of ${load.expected})` +
        (load.failed > 0 ? `; ${load.failed} requests failed (${load.firstFailure})` : ''),
    },
    {
      metric: `${label}: latency p50 / p99`,
      value: `${formatMicros(load.latency.quantile(0.5))} / ${formatMicros(load.latency.quantile(0.99))}`,
    },
    {
      // Less at the mercy of other work on the machine than the latencies: what each
      // process spent per delivery.
      metric: `${label}: CPU per delivery`,
      value: cpuSplit(
        load.deliveries,
        load.serverCpuMicros,
        load.clientCpuMicros,
        load.serviceCpu,
        setup.store,
      ),
    },
  ];
}

/** The cross-node p99 target: at most 50 ms at 10,000 deliveries a second. */
const TARGET_P99_MICROS = 50_000;
const TARGET_RATE = 10_000;

function pacedRows(setup: Setup, label: string, load: PacedLoad, perMessage: number): Row[] {
  const deliveredPerSecond = load.deliveries / load.seconds;
  const complete = load.deliveries === load.expected && load.failed === 0;
  const across = setup.nodes > 1;
  const latency = across ? load.cross : load.same;
  // Judged where the load is the target's: 10,000 deliveries a second, across nodes.
  const judged = across && Math.abs(load.rate * perMessage - TARGET_RATE) < TARGET_RATE / 100;
  const p = (histogram: LatencyHistogram) =>
    histogram.count === 0
      ? 'none'
      : `${formatMicros(histogram.quantile(0.5))} / ${formatMicros(histogram.quantile(0.99))}`;
  return [
    {
      metric: `${label}: latency p50 / p99${across ? ', across nodes' : ''}`,
      value:
        p(latency) +
        (across && load.same.count > 0 ? ` (same node: ${p(load.same)})` : '') +
        (complete
          ? ''
          : `; only ${load.deliveries} of ${load.expected} delivered` +
            (load.failed > 0 ? `, ${load.failed} refused (${load.firstFailure})` : '')),
      ...(judged && {
        target: 'p99 ≤ 50 ms at 10,000 deliveries/s',
        met: complete && latency.quantile(0.99) <= TARGET_P99_MICROS,
      }),
    },
    {
      metric: `${label}: carried, sender late p99, CPU per delivery`,
      value:
        `${formatCount(deliveredPerSecond)} deliveries/s over ${load.seconds.toFixed(1)} s; ` +
        `${formatMicros(load.lag.quantile(0.99))}; ` +
        cpuSplit(load.deliveries, load.nodeCpu, load.clientCpu, load.serviceCpu, setup.store),
    },
  ];
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`;
}

function failoverRows(result: FailoverResult): Row[] {
  const back = result.backMs;
  const returning = result.onKilled - result.gone;
  const last = back.length > 0 ? back[back.length - 1] : undefined;
  const median = back.length > 0 ? back[Math.floor((back.length - 1) / 2)] : undefined;
  const label = `Failover, 3 nodes behind HAProxy, ${result.clients} clients, one node SIGKILLed`;
  return [
    {
      metric: `${label}: lost node noticed (its lease gone: nicknames free, resumes proceed)`,
      value: `${seconds(result.leaseLapsedMs)} after the kill`,
      target: '≤ 15 s',
      met: result.leaseLapsedMs !== undefined && result.leaseLapsedMs <= 15_000,
    },
    {
      metric: `${label}: its clients back on another node, last / median`,
      value:
        `${seconds(last)} / ${seconds(median)}: ${back.length} of ${returning} back ` +
        `(${result.resumed} resumed, ${result.loggedInAfresh} by a fresh login)` +
        (result.notBack > 0 ? `, ${result.notBack} not back within 60 s` : ''),
      target: '≤ 15 s',
      met: result.notBack === 0 && last !== undefined && last <= 15_000,
    },
    {
      metric: `${label}: leaves of its ${result.gone} clients gone for good announced, first / last`,
      value:
        `${seconds(result.announcedMs[0])} / ${seconds(result.announcedMs[result.announcedMs.length - 1])}` +
        ` (${result.announcedMs.length} of ${result.gone}; resume window ${FAILOVER_GRACE_SECONDS} s here)`,
    },
    {
      metric: `${label}: what the other nodes' clients saw`,
      value:
        `${result.othersCut} cut off, ${result.wrongLeaves} wrong leaves; ` +
        `load meanwhile ${result.load.acknowledged} of ${result.load.sent} private messages acknowledged`,
    },
  ];
}

type Part = 'room' | 'private' | 'paced' | 'failover';

export async function cluster(ctx: RunContext): Promise<ScenarioResult> {
  const members = ctx.quick ? 20 : 100;
  const perSender = ctx.quick ? 50 : 500;
  const pairs = ctx.quick ? 10 : 50;
  const perPair = ctx.quick ? 20 : 200;
  const pacedSeconds = ctx.quick ? 2 : 4;
  const privateRates = ctx.quick ? [500, 2_000] : [1_000, 2_500, 5_000, 10_000];
  const roomRates = ctx.quick ? [5_000] : [10_000, 20_000];
  const roomSenders = 10;
  const failoverClients = ctx.quick ? 60 : 300;
  const result: Row[] = [];
  // `CONFAB_BENCH_CLUSTER=2n-private` (or `1n-sqlite`, `1n-postgres`, `2n`, `private`,
  // `room`, `paced`, `failover`, comma-separated): only the matching parts, when profiling
  // one path.
  const only = process.env.CONFAB_BENCH_CLUSTER?.split(',').filter(Boolean) ?? [];
  const wanted = (setup: Setup | undefined, part: Part) =>
    only.length === 0 ||
    only.some((filter) =>
      filter
        .split('-')
        .every(
          (word) =>
            word === part ||
            (setup !== undefined &&
              (word === `${setup.nodes}n` ||
                word === setup.store ||
                (setup.nodes > 1 && word === 'redis'))),
        ),
    );
  for (const setup of SETUPS) {
    const room = wanted(setup, 'room');
    const private_ = wanted(setup, 'private');
    // Paced loads where they answer the target's question: across nodes, and beside them
    // one node on the same database.
    const paced = setup.store === 'postgres' && wanted(setup, 'paced');
    if (!room && !private_ && !paced) continue;
    ctx.log(`  ${setup.label}`);
    const running = await startSetup(setup, { profileDir: ctx.profileDir });
    try {
      // Fresh nodes run their message paths unoptimised until V8 has seen them often
      // enough: both paths run once, unmeasured, so the figures are of warm nodes (the
      // first loads were otherwise the only ones measured cold).
      await privateMessages(running, pairs, Math.ceil(perPair / 5), 'w');
      await fanout(running, members, Math.ceil(perSender / 5), 'warm');
      if (room)
        result.push(
          ...rows(
            setup,
            `${setup.label}, room of ${members} at the maximum`,
            await fanout(running, members, perSender),
          ),
        );
      if (private_)
        result.push(
          ...rows(
            setup,
            `${setup.label}, private at the maximum`,
            await privateMessages(running, pairs, perPair),
          ),
        );
      if (paced) {
        for (const rate of roomRates)
          result.push(
            ...pacedRows(
              setup,
              `${setup.label}, room of ${members} at ${formatCount(rate)} deliveries/s`,
              await pacedRoom(running, members, roomSenders, rate, pacedSeconds),
              members - 1,
            ),
          );
        for (const rate of privateRates)
          result.push(
            ...pacedRows(
              setup,
              `${setup.label}, private at ${formatCount(rate)}/s`,
              await pacedPrivate(running, pairs, rate, pacedSeconds),
              1,
            ),
          );
      }
    } finally {
      await running.stop();
    }
  }
  if (wanted(undefined, 'failover')) {
    ctx.log('  failover');
    result.push(...failoverRows(await failover(failoverClients)));
  }
  return {
    name: 'cluster',
    title: 'Cluster: two nodes on PostgreSQL and Redis beside one node',
    rows: result,
    notes: [
      `At the maximum: room fan-out, ${members} members spread over the nodes, two senders ` +
        `(one per node), ${perSender} messages each as fast as they go; private, ${pairs} ` +
        `pairs, sender on the first node and receiver on the last, ${perPair} messages each. ` +
        'These measure queueing under a saturating load, not the latency at a given rate.',
      `At a set rate (the target's question): messages leave evenly spaced for ` +
        `${pacedSeconds} s, each stamped with its sender's node; room: ${members} members ` +
        `spread over the nodes, ${roomSenders} of them sending in turn, a delivery per ` +
        `member but the sender; private: ${pairs} pairs, sender on the first node, receiver ` +
        'on the last. "Sender late" is how far behind its slot the bench process sent ' +
        "(its own delay, not the servers').",
      `Failover: 3 nodes on PostgreSQL and Redis behind the README's HAProxy recipe (PROXY ` +
        `protocol v2, /readyz checks), ${failoverClients} guests spread by the balancer, ` +
        `${FAILOVER_LOAD_RATE} private messages a second among them throughout; the node of the first client is SIGKILLed. Its clients come back as the ` +
        'terminal client does (reconnectDelay with its jitter, through the balancer, resume ' +
        'with their token, a fresh login if refused); a tenth never come back, and a client ' +
        'of a survivor watches for their `offline`. "Noticed" is when the killed node\'s ' +
        'lease left Redis (polled every 20 ms): from then its nicknames are free and resumes ' +
        'of its sessions proceed.',
      'Latency from send to receipt, clients in the bench process. CPU from /proc: the ' +
        "nodes, this process, PostgreSQL's backends of these nodes, and Redis (shared " +
        'with anything else using it). Real `confab serve` processes; PostgreSQL and Redis ' +
        'of this machine.',
    ],
  };
}
