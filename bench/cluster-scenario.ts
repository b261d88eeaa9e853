import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChatClient } from '../src/client/client.js';
import { freePort } from '../test/helpers/free-port.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from '../test/helpers/postgres.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from '../test/helpers/redis.js';
import { BENCH_PARAMETERS } from './harness.js';
import { nowMicros } from './lean-client.js';
import { sleep, type Row, type RunContext, type ScenarioResult } from './measure.js';
import { formatCount, formatMicros, LatencyHistogram } from './stats.js';

// `npm run bench -- cluster`: room fan-out and private messages across two nodes on
// PostgreSQL and Redis, beside one node on SQLite and one on PostgreSQL. Real
// `confab serve` processes; the clients run in this process (ChatClient).

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(here, '..', 'src', 'cli', 'main.js');
const ROOM = 'bench';

interface Setup {
  readonly label: string;
  readonly nodes: number;
  readonly store: 'sqlite' | 'postgres';
}

const SETUPS: readonly Setup[] = [
  { label: '1 node, SQLite', nodes: 1, store: 'sqlite' },
  { label: '1 node, PostgreSQL', nodes: 1, store: 'postgres' },
  { label: '2 nodes, PostgreSQL + Redis', nodes: 2, store: 'postgres' },
];

interface Running {
  readonly ports: number[];
  /** CPU time (user + system, µs) each node process has used so far. */
  cpuMicros(): number[];
  stop(): Promise<void>;
}

/** A child's CPU time from /proc (clock ticks of 10 ms); 0 where /proc is not there. */
function childCpuMicros(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return 0;
  }
}

async function startSetup(setup: Setup, profileDir: string | undefined): Promise<Running> {
  const root = mkdtempSync(path.join(tmpdir(), 'confab-bench-cluster-'));
  const schema = freshSchemaName();
  const prefix = freshPrefix();
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < setup.nodes; i++) {
    const port = await freePort();
    const args: string[] = profileDir
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${profileDir}`,
          `--cpu-prof-name=cluster-${setup.nodes}n-${setup.store}-node${i}-${Date.now()}.cpuprofile`,
        ]
      : [];
    args.push(MAIN, 'serve', '--host', '127.0.0.1', '--port', String(port));
    args.push('--data', path.join(root, `node${i}`), '--node-id', `bench${i}`);
    // The load comes from one address, faster than a person types: the benches' limits.
    for (const [key, value] of Object.entries(BENCH_PARAMETERS))
      args.push('--set', `${key}=${value}`);
    if (setup.store === 'postgres') args.push('--store', `${TEST_PG_URL}?schema=${schema}`);
    if (setup.nodes > 1)
      args.push('--bus', `${TEST_REDIS_URL}?prefix=${encodeURIComponent(prefix)}`);
    const child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        CONFAB_WEB_PORT: '0',
        CONFAB_ADMIN_PASSWORD: 'bench-admin-password-1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node did not start: ${output}`)), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/Connect with: .*\n/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`node exited (${code}): ${output}`)));
    });
    children.push(child);
    ports.push(port);
  }
  return {
    ports,
    cpuMicros: () => children.map((child) => childCpuMicros(child.pid)),
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once('exit', () => resolve());
              if (!profileDir) return void child.kill('SIGKILL');
              // A profiled node writes its profile only on a clean exit: SIGINT twice is
              // "stop now" (the first starts the shutdown countdown).
              child.kill('SIGINT');
              setTimeout(() => child.kill('SIGINT'), 200);
              setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
            }),
        ),
      );
      if (setup.store === 'postgres') await dropSchema(schema).catch(() => undefined);
      if (setup.nodes > 1) await deletePrefix(prefix).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

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

async function fanout(running: Running, members: number, perSender: number): Promise<Load> {
  const clients: ChatClient[] = [];
  for (let i = 0; i < members; i++) {
    const client = await ChatClient.connect({
      host: '127.0.0.1',
      port: running.ports[i % running.ports.length]!,
    });
    await client.login(`m${i}`);
    clients.push(client);
  }
  await clients[0]!.request('create', { room: ROOM });
  for (const client of clients.slice(1))
    for (let attempt = 0; ; attempt++) {
      try {
        await client.request('join', { room: ROOM });
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
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < perSender; i++) {
    for (const sender of senders)
      sender.request('say', { room: ROOM, text: `b:${nowMicros()}` }).catch(failures.note);
    if (i % 10 === 9) await sleep(5);
  }
  await settle(counts, expected);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = running.cpuMicros();
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
  };
}

async function privateMessages(running: Running, pairs: number, perPair: number): Promise<Load> {
  const last = running.ports.length - 1;
  const senders: ChatClient[] = [];
  const receivers: ChatClient[] = [];
  const latency = new LatencyHistogram();
  const counts: Array<() => number> = [];
  for (let i = 0; i < pairs; i++) {
    // Sender on the first node, receiver on the last: across nodes when there are two.
    const sender = await ChatClient.connect({ host: '127.0.0.1', port: running.ports[0]! });
    await sender.login(`s${i}`);
    const receiver = await ChatClient.connect({ host: '127.0.0.1', port: running.ports[last]! });
    await receiver.login(`r${i}`);
    counts.push(listen(receiver, 'private', latency));
    senders.push(sender);
    receivers.push(receiver);
  }
  const expected = pairs * perPair;
  const failures = failureCounter();
  const cpuBefore = running.cpuMicros();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < perPair; i++) {
    senders.forEach((sender, index) => {
      sender.request('msg', { to: [`r${index}`], text: `b:${nowMicros()}` }).catch(failures.note);
    });
    await sleep(5);
  }
  await settle(counts, expected);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = running.cpuMicros();
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
  };
}

function rows(label: string, load: Load): Row[] {
  const perDelivery = (micros: number) => formatMicros(micros / Math.max(1, load.deliveries));
  const server = load.serverCpuMicros.reduce((sum, micros) => sum + micros, 0);
  const nodes =
    load.serverCpuMicros.length > 1
      ? ` (${load.serverCpuMicros.map(perDelivery).join(' + ')})`
      : '';
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
      // Less at the mercy of other work on the machine than the latencies: what the
      // server processes (every node together) spent per delivery.
      metric: `${label}: CPU per delivery, servers / clients`,
      value: `${perDelivery(server)}${nodes} / ${perDelivery(load.clientCpuMicros)}`,
    },
  ];
}

export async function cluster(ctx: RunContext): Promise<ScenarioResult> {
  const members = ctx.quick ? 20 : 100;
  const perSender = ctx.quick ? 50 : 500;
  const pairs = ctx.quick ? 10 : 50;
  const perPair = ctx.quick ? 20 : 200;
  const result: Row[] = [];
  // `CONFAB_BENCH_CLUSTER=2n-private` (or `1n-sqlite`, `1n-postgres`, `2n`, `private`,
  // `room`, comma-separated): only the matching parts, when profiling one path.
  const only = process.env.CONFAB_BENCH_CLUSTER?.split(',').filter(Boolean) ?? [];
  const wanted = (setup: Setup, part: 'room' | 'private') =>
    only.length === 0 ||
    only.some((filter) =>
      filter
        .split('-')
        .every(
          (word) =>
            word === part ||
            word === `${setup.nodes}n` ||
            word === setup.store ||
            (setup.nodes > 1 && word === 'redis'),
        ),
    );
  for (const setup of SETUPS) {
    const room = wanted(setup, 'room');
    const private_ = wanted(setup, 'private');
    if (!room && !private_) continue;
    ctx.log(`  ${setup.label}`);
    const running = await startSetup(setup, ctx.profileDir);
    try {
      if (room)
        result.push(
          ...rows(`${setup.label}, room of ${members}`, await fanout(running, members, perSender)),
        );
      if (private_)
        result.push(
          ...rows(`${setup.label}, private`, await privateMessages(running, pairs, perPair)),
        );
    } finally {
      await running.stop();
    }
  }
  return {
    name: 'cluster',
    title: 'Cluster: two nodes on PostgreSQL and Redis beside one node',
    rows: result,
    notes: [
      `Room fan-out: ${members} members spread over the nodes, two senders (one per node), ` +
        `${perSender} messages each; private: ${pairs} pairs, sender on the first node and ` +
        `receiver on the last, ${perPair} messages each. Latency from send to receipt, clients ` +
        'in the bench process. Real `confab serve` processes; PostgreSQL and Redis of this machine.',
    ],
  };
}
