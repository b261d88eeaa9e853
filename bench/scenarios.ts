import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChatClient } from '../src/client/client.js';
import type { CorePmResult } from './core-pm.js';
import { sumGcTrace, type GcTotals } from './gc-trace.js';
import type { FileClientReport } from './file-client.js';
import { hashPassword, verifyPassword } from '../src/core/accounts/passwords.js';
import type { ClientSpec, SenderPlan } from './ipc.js';
import { sourceAddress } from './harness.js';
import {
  clientSpecs,
  integrity,
  percent,
  runLoad,
  settle,
  sleep,
  SOURCE_ADDRESSES,
  sizesFor,
  withRig,
  type LoadOutcome,
  type Row,
  type RunContext,
  type ScenarioResult,
} from './measure.js';
import { formatCount, formatMicros, LatencyHistogram, quantileOf } from './stats.js';
import { irc } from './irc-scenario.js';
import { webSockets } from './ws-scenario.js';
import { cluster } from './cluster-scenario.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const KiB = 1024;
const LOBBY = 'lobby';
/** The room the fan-out runs in (everyone is also in the lobby, which stays quiet). */
const ROOM = 'bench';

export function latencyRows(label: string, outcome: LoadOutcome, p99Target?: number): Row[] {
  const p99 = outcome.latency.quantile(0.99);
  return [
    {
      metric: `${label}: latency p50 / p99 / max`,
      value: `${formatMicros(outcome.latency.quantile(0.5))} / ${formatMicros(p99)} / ${formatMicros(outcome.latency.max)}`,
      ...(p99Target !== undefined && {
        target: `p99 ≤ ${formatMicros(p99Target)}`,
        met: p99 <= p99Target,
      }),
    },
  ];
}

export function cpuRow(label: string, outcome: LoadOutcome): Row {
  return {
    metric: `${label}: CPU server / generator`,
    value:
      `${percent(outcome.serverCpu)} / ${percent(outcome.generatorCpu)} of one core; ` +
      `${outcome.serverMicrosPerDelivery.toFixed(2)} / ${outcome.generatorMicrosPerDelivery.toFixed(2)} µs CPU per delivery` +
      (outcome.serverMainThreadMicrosPerDelivery === undefined
        ? ''
        : ` (server's event loop alone ${outcome.serverMainThreadMicrosPerDelivery.toFixed(2)} µs)`),
  };
}

export function integrityRow(label: string, outcome: LoadOutcome): Row {
  const check = integrity(outcome);
  return {
    metric: `${label}: integrity`,
    value: check.text,
    target: '0 lost or duplicated',
    met: check.ok,
  };
}

// ---- 1. connection capacity ---------------------------------------------------------

interface CapacityRound {
  readonly ok: number;
  readonly failed: number;
  readonly firstError: string | undefined;
  readonly perSecond: number;
  readonly firstHalfPerSecond: number;
  readonly secondHalfPerSecond: number;
  /** Bytes per connection: RSS less the young generation, average from an empty server. */
  readonly steadyAverage: number;
  readonly steadySlope: number;
  readonly rssAverage: number;
  readonly heapLive: number;
  readonly heapCommitted: number;
  readonly rssMiB: readonly [number, number];
  /** VmRSS delta ÷ clients, both ends measured after IDLE_MS idle and a collection. */
  readonly rssIdle: number;
  readonly youngIdleMiB: readonly [number, number];
  readonly youngMiB: readonly [number, number];
  readonly notices: number;
  readonly noticeMiB: number;
  readonly generatorCpuSeconds: number;
  readonly generatorRssMiB: number;
  /** The first frame a new connection gets, in bytes. */
  readonly greeting: number;
}

/** Bytes of the server's first frame (the greeting) to a new connection, newline included. */
function greetingBytes(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(() => finish(new Error('no greeting within 10 s')), 10_000);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else {
        const end = Buffer.concat(chunks).indexOf(0x0a);
        resolve(end + 1);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (chunk.includes(0x0a)) finish();
      else if (length > 1 << 20) finish(new Error('greeting over 1 MiB'));
    });
    socket.on('error', finish);
  });
}

/** Quiet time before an idle measure: longer than V8's 5 s window of allocation rate. */
const IDLE_MS = 8000;

/** One fresh server, `count` idle clients connected and logged in, in two halves. */
async function capacityRound(ctx: RunContext, count: number): Promise<CapacityRound> {
  return withRig(ctx, {}, async (server, generator) => {
    const greeting = await greetingBytes(server.port);
    const before = await server.stats(true);
    // The same measure once the process has been idle a while, before and after the
    // logins: a collection then finds the allocation rate low and gives back the young
    // generation that start-up or the login burst grew (V8 shrinks it only then), so
    // what is left is what the connections hold.
    await sleep(IDLE_MS);
    const idleBefore = await server.stats(true);
    // Two halves: the RSS slope between them is the marginal cost of a connection, free of
    // fixed costs (code, SQLite cache) that an average from empty includes.
    const specs = clientSpecs(count, 'idle');
    const half = Math.floor(count / 2);
    const first = await generator.connect(server.port, specs.slice(0, half), 128);
    await settle(server);
    const middle = await server.stats(true);
    const second = await generator.connect(server.port, specs.slice(half), 128);
    await settle(server);
    const after = await server.stats(true);
    await sleep(IDLE_MS);
    const idleAfter = await server.stats(true);
    const collected = await generator.collect();
    const ok = first.ok + second.ok;
    const secondHalf = Math.max(1, second.ok);
    // The young generation is one buffer for the whole heap: it grows (to 32 MiB) under
    // allocation bursts whatever the number of connections, so its resident size is set
    // aside; the rest of the process's RSS is counted.
    const steady = (stats: typeof before) => stats.rss - stats.newSpace;
    const mib = (bytes: number) => bytes / 2 ** 20;
    return {
      ok,
      failed: first.failed + second.failed,
      firstError: first.firstError ?? second.firstError,
      perSecond: ok / ((first.ms + second.ms) / 1000),
      firstHalfPerSecond: first.ok / (first.ms / 1000),
      secondHalfPerSecond: second.ok / (second.ms / 1000),
      steadyAverage: (steady(after) - steady(before)) / Math.max(1, ok),
      greeting,
      steadySlope: (steady(after) - steady(middle)) / secondHalf,
      rssAverage: (after.rss - before.rss) / Math.max(1, ok),
      rssIdle: (idleAfter.rss - idleBefore.rss) / Math.max(1, ok),
      youngIdleMiB: [mib(idleBefore.newSpace), mib(idleAfter.newSpace)],
      heapLive: (after.heapUsed - middle.heapUsed) / secondHalf,
      heapCommitted: (after.heapTotal - middle.heapTotal) / secondHalf,
      rssMiB: [mib(before.rss), mib(after.rss)],
      youngMiB: [mib(before.newSpace), mib(after.newSpace)],
      notices: collected.framesIn - 2 * ok,
      noticeMiB: mib(collected.bytesIn),
      generatorCpuSeconds: collected.cpuMicros / 1e6,
      generatorRssMiB: mib(collected.rss),
    };
  });
}

/** The median of a few numbers (the middle one, or the mean of the two middle ones). */
function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median of several runs' figures, formatted, with their range when there are several. */
function medianWithRange(
  values: readonly number[],
  format: (value: number) => string,
): { median: number; text: string } {
  const median = medianOf(values);
  const range =
    values.length > 1
      ? ` (${format(Math.min(...values))} to ${format(Math.max(...values))} over ${values.length} runs)`
      : '';
  return { median, text: `${format(median)}${range}` };
}

export async function capacity(ctx: RunContext): Promise<ScenarioResult> {
  const count = ctx.sizes?.[0] ?? (ctx.quick ? 1000 : 10_000);
  // Resident memory after a burst of logins varies from run to run by several hundred
  // bytes per connection (what the allocators keep of the burst): the figure is the median
  // of fresh servers, with the range shown.
  const roundCount = ctx.quick ? 1 : 3;
  const rounds: CapacityRound[] = [];
  for (let round = 1; round <= roundCount; round++) {
    ctx.log(
      `  round ${round} of ${roundCount}: connecting ${count} clients from ${SOURCE_ADDRESSES} source addresses…`,
    );
    rounds.push(await capacityRound(ctx, count));
  }
  const kib = (bytes: number) => `${(bytes / KiB).toFixed(2)} KiB`;
  const summary = (pick: (round: CapacityRound) => number, format: (value: number) => string) =>
    medianWithRange(rounds.map(pick), format);
  const ok = Math.min(...rounds.map((round) => round.ok));
  const failed = rounds.find((round) => round.failed > 0);
  const rate = summary(
    (round) => round.perSecond,
    (value) => `${formatCount(value)}/s`,
  );
  const steadyAverage = summary((round) => round.steadyAverage, kib);
  const steadySlope = summary((round) => round.steadySlope, kib);
  const rssAverage = summary((round) => round.rssAverage, kib);
  const rssIdle = summary((round) => round.rssIdle, kib);
  const heapLive = summary((round) => round.heapLive, kib);
  const heapCommitted = summary((round) => round.heapCommitted, kib);
  const last = rounds[rounds.length - 1]!;
  const mib = (value: number) => formatCount(value);
  return {
    name: 'capacity',
    title: `Connection capacity: ${formatCount(count)} logged-in idle clients`,
    rows: [
      {
        metric: 'clients logged in (fewest of the runs)',
        value: `${formatCount(ok)} of ${formatCount(count)}${failed ? ` (${failed.failed} failed: ${failed.firstError})` : ''}`,
        target: formatCount(count),
        met: ok === count && !failed,
      },
      {
        metric: 'connected and logged in per second (median)',
        value: `${rate.text}; last run: first half ${formatCount(last.firstHalfPerSecond)}/s, second ${formatCount(last.secondHalfPerSecond)}/s`,
        target: '≥ 2,000/s',
        met: rate.median >= 2000,
      },
      {
        metric: 'server RSS per connection, young generation aside (average from empty, median)',
        value: steadyAverage.text,
        target: '≤ 4 KiB',
        met: steadyAverage.median <= 4 * KiB,
      },
      {
        metric: 'server RSS per connection, young generation aside, over the second half (median)',
        value: steadySlope.text,
      },
      {
        // Issue 21's measure: VmRSS after the logins less VmRSS before, over the clients.
        metric: 'server RSS per connection, all of it (VmRSS delta from empty ÷ clients, median)',
        value: `${rssAverage.text}; last run: RSS ${mib(last.rssMiB[0])} → ${mib(last.rssMiB[1])} MiB, young generation ${mib(last.youngMiB[0])} → ${mib(last.youngMiB[1])} MiB`,
        target: '≤ 3 KiB',
        met: rssAverage.median <= 3 * KiB,
      },
      {
        // The same, both ends taken after IDLE_MS of quiet and a collection (see capacityRound).
        metric: `server RSS per connection, all of it, both ends after ${IDLE_MS / 1000} s idle and a collection (median)`,
        value: `${rssIdle.text}; last run: young generation ${mib(last.youngIdleMiB[0])} → ${mib(last.youngIdleMiB[1])} MiB`,
      },
      {
        metric: 'server JS heap per connection: live / committed (median)',
        value: `${heapLive.text} / ${heapCommitted.text}`,
      },
      {
        metric: 'greeting: the first frame of a connection',
        value: `${formatCount(last.greeting)} bytes`,
        target: '≤ 1 KB',
        met: last.greeting <= 1000,
      },
      {
        metric: 'presence notices delivered while connecting (last run)',
        value: `${formatCount(last.notices)} frames, ${formatCount(last.noticeMiB)} MiB (greetings, and logins announced to everyone while at most presence.announceMax are online)`,
      },
      {
        metric: 'generator: CPU total, RSS (last run)',
        value: `${last.generatorCpuSeconds.toFixed(1)} s, ${formatCount(last.generatorRssMiB)} MiB`,
      },
    ],
    notes: [],
  };
}

// ---- 2. room fan-out ----------------------------------------------------------------

export const SENDERS = 10;
/** The rate the latency target is set at: deliveries per second across the room. */
export const FIXED_DELIVERIES_PER_SECOND = 50_000;

/**
 * The room's senders. Paced ones are spread over their period (`evenly`), so the room gets
 * one message every 1/(SENDERS × rate) seconds, or all start in step, so the room gets
 * SENDERS messages at once every 1/rate seconds: the same average rate as bursts.
 */
export function roomSenders(
  room: string,
  rate: number | 'max',
  window: number,
  spacing: 'evenly' | 'in step' = 'evenly',
): SenderPlan[] {
  return Array.from({ length: SENDERS }, (_, i) => ({
    client: i,
    senderNo: i + 1,
    target: { kind: 'room', room },
    rate,
    phase: spacing === 'evenly' ? i / SENDERS : 0,
    window,
    maxMessages: 10_000_000,
  }));
}

export async function fanout(ctx: RunContext): Promise<ScenarioResult> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const durationMs = ctx.quick ? 2000 : 5000;
  for (const members of sizesFor(ctx, [100, 1000])) {
    await withRig(ctx, {}, async (server, generator) => {
      ctx.log(`  ${members} members: connecting…`);
      const connected = await generator.connect(server.port, clientSpecs(members, 'm'), 64);
      if (connected.failed > 0) throw new Error(`fan-out setup: ${connected.firstError}`);
      await generator.call('create', { room: ROOM }, [0]);
      const others = Array.from({ length: members - 1 }, (_, i) => i + 1);
      await generator.call('join', { room: ROOM }, others);
      await settle(server);
      const recipients = members - 1;
      const perSender = FIXED_DELIVERIES_PER_SECOND / recipients / SENDERS;
      ctx.log(`  ${members} members: fixed rate…`);
      const paced = await runLoad(
        server,
        generator,
        roomSenders(ROOM, perSender, 64),
        durationMs,
        recipients,
      );
      const label = `${members} members, ${formatCount(FIXED_DELIVERIES_PER_SECOND)} deliveries/s`;
      rows.push({
        metric: `${label}: delivered`,
        value: `${formatCount(paced.deliveriesPerSecond)}/s (${formatCount(paced.messagesPerSecond)} messages/s)`,
      });
      rows.push(...latencyRows(label, paced, members === 1000 ? 30_000 : undefined));
      rows.push(cpuRow(label, paced), integrityRow(label, paced));
      ctx.log(`  ${members} members: fixed rate, senders in step…`);
      const bursts = await runLoad(
        server,
        generator,
        roomSenders(ROOM, perSender, 64, 'in step'),
        durationMs,
        recipients,
      );
      const burstLabel = `${members} members, ${formatCount(FIXED_DELIVERIES_PER_SECOND)} deliveries/s in bursts of ${SENDERS} messages`;
      rows.push(
        ...latencyRows(burstLabel, bursts),
        cpuRow(burstLabel, bursts),
        integrityRow(burstLabel, bursts),
      );
      ctx.log(`  ${members} members: maximum rate…`);
      const window = members >= 1000 ? 8 : 32;
      const max = await runLoad(
        server,
        generator,
        roomSenders(ROOM, 'max', window),
        durationMs,
        recipients,
      );
      const maxLabel = `${members} members, maximum rate`;
      rows.push({
        metric: `${maxLabel}: delivered`,
        value: `${formatCount(max.deliveriesPerSecond)}/s (${formatCount(max.messagesPerSecond)} messages/s stored and fanned out)`,
        ...(members === 1000 && {
          target: '≥ 800,000/s',
          met: max.deliveriesPerSecond >= 800_000,
        }),
      });
      rows.push(...latencyRows(maxLabel, max), cpuRow(maxLabel, max), integrityRow(maxLabel, max));
    });
  }
  notes.push(
    `Every member joins the room \`${ROOM}\` (created by the first); ${SENDERS} of them send, and each message reaches the other members − 1. At a fixed rate the senders are spread over their period, so messages arrive evenly spaced; "in bursts" runs the same rate with the senders in step, ${SENDERS} messages at once. Latency is from the sender's write to the receiver's read (both stamped with the system-wide monotonic clock).`,
  );
  return { name: 'fanout', title: 'Room fan-out (storage on)', rows, notes };
}

// ---- 3. private messages ------------------------------------------------------------

/**
 * Every client sends to its partner (0↔1, 2↔3…); paced ones are spread over their period.
 * 2,000 requests in flight in all, at least 2 per client.
 */
export function pairSenders(specs: readonly ClientSpec[], rate: number | 'max'): SenderPlan[] {
  const window = Math.max(2, Math.floor(2000 / specs.length));
  return specs.map((spec) => ({
    client: spec.index,
    senderNo: spec.index + 1,
    target: { kind: 'private', to: specs[spec.index ^ 1]!.nick },
    rate,
    phase: spec.index / specs.length,
    window,
    maxMessages: 10_000_000,
  }));
}

/** Issue 21's paced private-message rate: p99 and CPU per message at a realistic load. */
export const PM_PACED_PER_SECOND = 10_000;

/**
 * Rows for one load repeated: the median with its range for throughput, latency and CPU
 * (identical runs on this VM differ by up to 30%, so one run says little), and integrity
 * over every run.
 */
function repeatedLoadRows(
  label: string,
  outcomes: readonly LoadOutcome[],
  targets: { perSecond?: number; p99Micros?: number; serverMicros?: number } = {},
): Row[] {
  const count = (value: number) => `${formatCount(value)}/s`;
  const micros = (value: number) => `${value.toFixed(2)} µs`;
  const delivered = medianWithRange(
    outcomes.map((outcome) => outcome.deliveriesPerSecond),
    count,
  );
  const p99 = medianWithRange(
    outcomes.map((outcome) => outcome.latency.quantile(0.99)),
    formatMicros,
  );
  const server = medianWithRange(
    outcomes.map((outcome) => outcome.serverMicrosPerDelivery),
    micros,
  );
  const mains = outcomes.map((outcome) => outcome.serverMainThreadMicrosPerDelivery);
  const generator = medianWithRange(
    outcomes.map((outcome) => outcome.generatorMicrosPerDelivery),
    micros,
  );
  const checks = outcomes.map(integrity);
  const deliveries = outcomes.reduce((sum, outcome) => sum + outcome.received, 0);
  return [
    {
      metric: `${label}: delivered (median)`,
      value: delivered.text,
      ...(targets.perSecond !== undefined && {
        target: `≥ ${count(targets.perSecond)}`,
        met: delivered.median >= targets.perSecond,
      }),
    },
    {
      metric: `${label}: latency p50 / p99 / max (median run's p50 and max)`,
      value: `${formatMicros(medianOf(outcomes.map((o) => o.latency.quantile(0.5))))} / ${p99.text} / ${formatMicros(medianOf(outcomes.map((o) => o.latency.max)))}`,
      ...(targets.p99Micros !== undefined && {
        target: `p99 ≤ ${formatMicros(targets.p99Micros)}`,
        met: p99.median <= targets.p99Micros,
      }),
    },
    {
      metric: `${label}: server CPU per message (median)`,
      value:
        server.text +
        (mains.every((main) => main !== undefined)
          ? `; the event loop alone ${medianWithRange(mains as number[], micros).text}`
          : ''),
      ...(targets.serverMicros !== undefined && {
        target: `≤ ${micros(targets.serverMicros)}`,
        met: server.median <= targets.serverMicros,
      }),
    },
    {
      metric: `${label}: generator CPU per message (median)`,
      value: `${generator.text}; ${percent(medianOf(outcomes.map((o) => o.generatorCpu)))} of one core`,
    },
    {
      metric: `${label}: integrity over ${outcomes.length} run${outcomes.length === 1 ? '' : 's'}`,
      value: checks.every((check) => check.ok)
        ? `0 lost, 0 duplicated (${formatCount(deliveries)} deliveries, each stored)`
        : checks.find((check) => !check.ok)!.text,
      target: '0 lost or duplicated',
      met: checks.every((check) => check.ok),
    },
  ];
}

/**
 * Private messages in pairs, storage on. For 100 clients: the paced rate of issue 21
 * (p99 and CPU per message), the maximum rate, and the same maximum-rate load against the
 * minimal forwarder (`floor`) in the same run, each repeated, so Confab's rate is read
 * beside the floor the machine allows at that moment. For 1,000 clients: the maximum rate,
 * where a closed loop stalls if replies stop (max latency, senders that never finished).
 */
export async function privateMessages(ctx: RunContext): Promise<ScenarioResult> {
  const rows: Row[] = [];
  const durationMs = ctx.quick ? 2000 : 5000;
  const repetitions = ctx.quick ? 1 : 3;
  for (const count of sizesFor(ctx, [100, 1000])) {
    const paced: LoadOutcome[] = [];
    const max: LoadOutcome[] = [];
    await withRig(ctx, {}, async (server, generator) => {
      ctx.log(`  ${count} clients in pairs: connecting…`);
      const specs = clientSpecs(count, 'p');
      const connected = await generator.connect(server.port, specs, 64);
      if (connected.failed > 0) throw new Error(`pm setup: ${connected.firstError}`);
      await settle(server);
      for (let run = 1; run <= repetitions; run++) {
        if (count === 100) {
          ctx.log(
            `  ${count} clients: ${formatCount(PM_PACED_PER_SECOND)} messages/s, run ${run}…`,
          );
          // The same bound on requests in flight as at the maximum: if the server falls
          // behind the schedule, senders wait rather than pile up an unbounded backlog.
          paced.push(
            await runLoad(
              server,
              generator,
              pairSenders(specs, PM_PACED_PER_SECOND / count),
              durationMs,
              1,
            ),
          );
        }
        ctx.log(`  ${count} clients: maximum rate, run ${run}…`);
        max.push(await runLoad(server, generator, pairSenders(specs, 'max'), durationMs, 1));
      }
    });
    if (count === 100) {
      rows.push(
        ...repeatedLoadRows(
          `${count} clients, ${formatCount(PM_PACED_PER_SECOND)} messages/s`,
          paced,
          {
            p99Micros: 10_000,
            serverMicros: 15,
          },
        ),
      );
      rows.push(...repeatedLoadRows(`${count} clients, maximum rate`, max, { perSecond: 115_000 }));
      const floor = await floorRuns(ctx, count, durationMs, repetitions);
      rows.push(
        ...repeatedLoadRows(`${count} clients, maximum rate, minimal forwarder (same run)`, floor),
      );
      const ratio =
        medianOf(max.map((o) => o.deliveriesPerSecond)) /
        medianOf(floor.map((o) => o.deliveriesPerSecond));
      rows.push({
        metric: `${count} clients, maximum rate: Confab against the floor (medians)`,
        value: `${(100 * ratio).toFixed(0)}% of the minimal forwarder`,
        target: '≈ 50%',
        met: ratio >= 0.45,
      });
    } else {
      rows.push(...repeatedLoadRows(`${count} clients, maximum rate`, max));
      const unfinished = max.reduce((sum, outcome) => sum + outcome.incompleteSenders, 0);
      rows.push({
        metric: `${count} clients, maximum rate: stalls (senders whose last message some receiver never got; longest wait of any message)`,
        value: `${unfinished} senders; ${formatMicros(Math.max(...max.map((o) => o.latency.max)))}`,
        target: 'none; no wait over 1 s',
        met: unfinished === 0 && Math.max(...max.map((o) => o.latency.max)) <= 1_000_000,
      });
    }
  }
  return {
    name: 'pm',
    title: 'Private messages, clients in pairs (storage on)',
    rows,
    notes: [
      'Every client sends to its partner; each message is stored with its recipient before delivery. Server CPU per message counts every thread of the server (the SQLite writer thread included); "the event loop alone" is its main thread. Each load is repeated (median, range); the minimal forwarder runs right after Confab in the same scenario with the same generator.',
    ],
  };
}

/** The maximum-rate pair load against bench/floor-server.ts, repeated. */
async function floorRuns(
  ctx: RunContext,
  count: number,
  durationMs: number,
  repetitions: number,
): Promise<LoadOutcome[]> {
  const outcomes: LoadOutcome[] = [];
  await withRig(
    ctx,
    {},
    async (server, generator) => {
      const specs = clientSpecs(count, 'f');
      const connected = await generator.connect(server.port, specs, 64);
      if (connected.failed > 0) throw new Error(`floor setup: ${connected.firstError}`);
      for (let run = 1; run <= repetitions; run++) {
        ctx.log(`  ${count} clients against the minimal forwarder, run ${run}…`);
        outcomes.push(await runLoad(server, generator, pairSenders(specs, 'max'), durationMs, 1));
      }
    },
    'floor',
  );
  return outcomes;
}

/**
 * The private-message load at the maximum rate against bench/floor-server.ts, a minimal
 * Node.js forwarder that stores and checks nothing: what this machine, Node.js and this
 * generator allow at best, so that Confab's own cost per message can be read off `pm`.
 */
export async function privateMessageFloor(ctx: RunContext): Promise<ScenarioResult> {
  const count = ctx.sizes?.[0] ?? 100;
  const durationMs = ctx.quick ? 2000 : 5000;
  const rows: Row[] = [];
  await withRig(
    ctx,
    {},
    async (server, generator) => {
      ctx.log(`  ${count} clients in pairs against the minimal forwarder…`);
      const specs = clientSpecs(count, 'f');
      const connected = await generator.connect(server.port, specs, 64);
      if (connected.failed > 0) throw new Error(`floor setup: ${connected.firstError}`);
      const max = await runLoad(server, generator, pairSenders(specs, 'max'), durationMs, 1);
      const label = `minimal forwarder, ${count} clients, maximum rate`;
      rows.push({
        metric: `${label}: delivered`,
        value: `${formatCount(max.deliveriesPerSecond)}/s`,
      });
      rows.push(...latencyRows(label, max), cpuRow(label, max), integrityRow(label, max));
    },
    'floor',
  );
  return {
    name: 'floor',
    title: 'Private messages against a minimal forwarder (no storage, no checks)',
    rows,
    notes: [
      'bench/floor-server.ts parses each frame with JSON.parse and forwards it, with one write per socket per turn, and nothing else: no storage, argument checks, ordering, logs, blocking or moderation. The same generator as `pm`.',
    ],
  };
}

/**
 * The private-message path in one process, without sockets or generator
 * (bench/core-pm.ts): the chat core's own cost per message, steady enough to compare
 * changes with, where the loopback figures swing by tens of percent on this VM.
 */
export async function corePrivateMessages(ctx: RunContext): Promise<ScenarioResult> {
  const messages = ctx.quick ? 30_000 : 100_000;
  const runs: CorePmRun[] = [];
  for (let run = 1; run <= (ctx.quick ? 1 : 3); run++) {
    ctx.log(`  run ${run}: ${formatCount(messages)} private messages through the core…`);
    runs.push(await runCorePm(messages));
  }
  const wall = runs.map((run) => (run.ms * 1000) / run.messages);
  const cpu = runs.map((run) => run.cpuMicros / run.messages);
  const micros = (value: number) => `${value.toFixed(1)} µs`;
  const lost = runs.some((run) => run.delivered !== run.messages);
  return {
    name: 'core',
    title: 'Private messages through the chat core, in process (no sockets)',
    rows: [
      {
        metric: '50 pairs, 20 requests in flight each: messages per second (median)',
        value: `${formatCount(medianOf(runs.map((run) => (run.messages * 1000) / run.ms)))}/s`,
      },
      {
        metric: 'wall time per message (median)',
        value: medianWithRange(wall, micros).text,
        target: '≤ 8 µs',
        met: medianOf(wall) <= 8,
      },
      {
        metric: 'CPU time per message, all threads (median)',
        value: medianWithRange(cpu, micros).text,
      },
      ...(runs.every((run) => run.mainThreadCpuMicros !== undefined)
        ? [
            {
              metric: 'CPU time per message, main thread (the event loop) alone (median)',
              value: medianWithRange(
                runs.map((run) => run.mainThreadCpuMicros! / run.messages),
                micros,
              ).text,
            },
          ]
        : []),
      ...gcRows(runs),
      {
        metric: 'delivered',
        value: lost ? 'some messages were not delivered' : 'every message, once',
        target: 'all',
        met: !lost,
      },
    ],
    notes: [
      'bench/core-pm.ts calls ChatCore.receive for clients in pairs, with the real SQLite store (WAL, synchronous=FULL) in a temporary data dir and outlets that encode every frame and drop it.',
    ],
  };
}

/** What each message leaves for the collector, and the collector's share of the time. */
function gcRows(runs: readonly CorePmRun[]): Row[] {
  const traced = runs.filter((run) => run.gc !== undefined);
  if (traced.length === 0) return [];
  const kib = (value: number) => `${(value / 1024).toFixed(1)} KiB`;
  const percent = (value: number) => `${value.toFixed(0)}%`;
  return [
    {
      metric: 'allocated / promoted to the old generation, per message (median)',
      value: `${
        medianWithRange(
          traced.map((run) => run.gc!.allocatedBytes / run.messages),
          kib,
        ).text
      } / ${
        medianWithRange(
          traced.map((run) => run.gc!.promotedBytes / run.messages),
          kib,
        ).text
      }`,
    },
    {
      metric: 'garbage-collection pauses, share of wall time (median)',
      value: medianWithRange(
        traced.map((run) => (100 * run.gc!.pauseMs) / run.ms),
        percent,
      ).text,
    },
  ];
}

interface CorePmRun extends CorePmResult {
  readonly gc: GcTotals | undefined;
}

function runCorePm(messages: number): Promise<CorePmRun> {
  return new Promise((resolve, reject) => {
    // --trace-gc-nvp: one line per collection, summed over the load (bench/gc-trace.ts).
    const child = fork(path.join(here, 'core-pm.js'), [String(messages)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      execArgv: ['--trace-gc-nvp'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // GC trace lines may follow the result; it is the last JSON line.
      const line =
        output
          .trim()
          .split('\n')
          .findLast((text) => text.startsWith('{')) ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`core-pm exited with ${code}: ${output.slice(-200)}`));
      else resolve({ ...(JSON.parse(line) as CorePmResult), gc: sumGcTrace(output) });
    });
  });
}

// ---- 4. login storm -----------------------------------------------------------------

const STORM_PASSWORD = 'correct horse battery staple bench';

export async function loginStorm(ctx: RunContext): Promise<ScenarioResult> {
  const accounts = ctx.quick ? 50 : 200;
  const chatMembers = 50;
  // A modest chat load, so its latency shows whether hashing starves the event loop.
  const chatRate = 20;
  return withRig(ctx, {}, async (server, generator) => {
    ctx.log(`  registering ${accounts} accounts (setup)…`);
    const names = Array.from({ length: accounts }, (_, i) => `acct${i}`);
    let next = 0;
    const registerOne = async (name: string, index: number) => {
      const client = await ChatClient.connect({
        host: '127.0.0.1',
        port: server.port,
        localAddress: sourceAddress(index, SOURCE_ADDRESSES),
      });
      await client.login(name);
      await client.request('register', { password: STORM_PASSWORD });
      await client.quit();
    };
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < names.length) {
          const index = next++;
          await registerOne(names[index]!, index);
        }
      }),
    );

    const connected = await generator.connect(server.port, clientSpecs(chatMembers, 'chat'), 16);
    if (connected.failed > 0) throw new Error(`login storm setup: ${connected.firstError}`);
    await settle(server);
    const plans: SenderPlan[] = Array.from({ length: 5 }, (_, i) => ({
      client: i,
      senderNo: i + 1,
      target: { kind: 'room', room: LOBBY },
      rate: chatRate,
      window: 1000,
      maxMessages: 1_000_000,
    }));
    ctx.log('  chat alone…');
    const quiet = await runLoad(server, generator, plans, 2000, chatMembers - 1);

    ctx.log(`  chat during ${accounts} simultaneous logins…`);
    const loginTimes: number[] = [];
    let failures = 0;
    let firstFailure: string | undefined;
    let stormMs = 0;
    const storm = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const clients = await Promise.all(
        names.map((_, index) =>
          ChatClient.connect({
            host: '127.0.0.1',
            port: server.port,
            localAddress: sourceAddress(index, SOURCE_ADDRESSES),
          }),
        ),
      );
      const started = performance.now();
      await Promise.all(
        clients.map(async (client, index) => {
          const t0 = performance.now();
          try {
            await client.login(names[index]!, STORM_PASSWORD);
            loginTimes.push(performance.now() - t0);
          } catch (error) {
            failures++;
            firstFailure ??= (error as Error).message;
          }
        }),
      );
      stormMs = performance.now() - started;
      for (const client of clients) client.destroy();
    })();
    const during = await runLoad(
      server,
      generator,
      plans,
      ctx.quick ? 3000 : 6000,
      chatMembers - 1,
    );
    await storm;

    // Hash cost measured alone, one at a time, at the parameters the server uses.
    const hash = await hashPassword(STORM_PASSWORD);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await verifyPassword(hash, STORM_PASSWORD);
      samples.push(performance.now() - t0);
    }
    const ok = loginTimes.length;
    return {
      name: 'logins',
      title: `Login storm: ${accounts} account logins at once`,
      rows: [
        {
          metric: 'logins succeeded',
          value: `${ok} of ${accounts}${failures ? ` (${failures} failed: ${firstFailure})` : ''}`,
          target: String(accounts),
          met: ok === accounts,
        },
        {
          metric: 'logins per second',
          value: `${formatCount(ok / (stormMs / 1000))}/s (all in ${(stormMs / 1000).toFixed(2)} s)`,
        },
        {
          metric: 'login reply time p50 / p99',
          value: `${formatMicros(quantileOf(loginTimes, 0.5) * 1000)} / ${formatMicros(quantileOf(loginTimes, 0.99) * 1000)}`,
        },
        {
          metric: 'hash time per login (Argon2id 19 MiB, t=2, p=1; alone)',
          value: `${formatMicros(quantileOf(samples, 0.5) * 1000)}`,
        },
        ...latencyRows(`chat (${chatMembers} members, ${5 * chatRate} messages/s) alone`, quiet),
        ...latencyRows('chat during the storm', during),
        integrityRow('chat during the storm', during),
      ],
      notes: [
        'Accounts are created in a setup phase (`register`); the storm opens 200 connections first, then sends every login at once. Hashes run on libuv’s thread pool, at most 2 at once (the server’s bounded hashing queue), so the event loop keeps a core for chat.',
      ],
    };
  });
}

// ---- 5 & 6. storage and files: depend on rooms and file transfer ----------------------

const REPLAY_ROOMS = 20;
const REPLAY_PER_ROOM = 50; // history.replay's default

/**
 * The cost of a login that replays missed messages: an account in 20 rooms logs out, 50
 * messages are said in each, and it logs in again; timed from the login request to the
 * last missed message, against a login with nothing to replay.
 */
export async function storage(ctx: RunContext): Promise<ScenarioResult> {
  const rounds = ctx.quick ? 2 : 5;
  return withRig(ctx, { 'history.replay': REPLAY_PER_ROOM }, async (server) => {
    const connect = () => ChatClient.connect({ host: '127.0.0.1', port: server.port });
    const rooms = Array.from({ length: REPLAY_ROOMS }, (_, i) => `replay${i}`);
    for (const name of ['reader', 'plain']) {
      const client = await connect();
      await client.login(name);
      await client.request('register', { password: STORM_PASSWORD });
      if (name === 'reader') for (const room of rooms) await client.request('create', { room });
      await client.quit();
    }
    const poster = await connect();
    await poster.login('poster');
    for (const room of rooms) await poster.request('join', { room });

    const timedLogin = async (name: string, expectMissed: number): Promise<number> => {
      const client = await connect();
      let missed = 0;
      const allMissed = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${missed} of ${expectMissed} missed messages arrived`)),
          30_000,
        );
        const check = () => {
          if (missed < expectMissed) return;
          clearTimeout(timer);
          resolve();
        };
        client.on('event', (event) => {
          if (event.ev === 'message' && event.replay === 'missed') missed++;
          check();
        });
        check();
      });
      const started = performance.now();
      await client.login(name, STORM_PASSWORD);
      await allMissed;
      const elapsed = performance.now() - started;
      await client.quit();
      return elapsed;
    };

    const replayTimes: number[] = [];
    const plainTimes: number[] = [];
    for (let round = 0; round < rounds; round++) {
      await sleep(20); // last-seen has millisecond resolution
      for (const room of rooms)
        await Promise.all(
          Array.from({ length: REPLAY_PER_ROOM }, (_, i) =>
            poster.request('say', { room, text: `missed ${round}.${i}` }),
          ),
        );
      replayTimes.push(await timedLogin('reader', REPLAY_ROOMS * REPLAY_PER_ROOM));
      plainTimes.push(await timedLogin('plain', 0));
    }
    poster.destroy();
    const replay = quantileOf(replayTimes, 0.5);
    const plain = quantileOf(plainTimes, 0.5);
    return {
      name: 'storage',
      title: 'Storage: missed-message replay at login',
      rows: [
        {
          metric: 'messages stored and fanned out, 1,000-member room',
          value:
            'see "Room fan-out", 1,000 members at maximum rate (every message is stored first; the stored count is verified)',
        },
        {
          metric: `login replaying ${REPLAY_ROOMS} rooms × ${REPLAY_PER_ROOM} missed messages (median of ${rounds})`,
          value: `${formatMicros(replay * 1000)} to the last missed message (${formatCount((REPLAY_ROOMS * REPLAY_PER_ROOM) / (replay / 1000))} messages/s)`,
        },
        {
          metric: 'login with nothing to replay (median)',
          value: `${formatMicros(plain * 1000)} (both include the Argon2id verification)`,
        },
      ],
      notes: [],
    };
  });
}

const FILE_BYTES = 256 * 2 ** 20;

/**
 * A 256 MiB file uploaded to the shared area and downloaded back over loopback (SHA-256
 * checked at both ends), while a 50-member room chats at a modest rate: throughput, the
 * server's and the client's peak RSS, and chat latency meanwhile.
 */
export async function files(ctx: RunContext): Promise<ScenarioResult> {
  const catalogue = await commandsOfServer(ctx);
  if (!catalogue.includes('upload'))
    return {
      name: 'files',
      title: 'File transfer: a 256 MiB file over loopback',
      rows: [
        {
          metric: 'throughput, peak RSS, chat p99',
          value: 'not measured: no file transfer in this build',
        },
      ],
      notes: [],
    };
  const size = ctx.quick ? 32 * 2 ** 20 : FILE_BYTES;
  const work = mkdtempSync(path.join(tmpdir(), 'confab-bench-files-'));
  const file = path.join(work, 'payload.bin');
  const block = randomBytes(2 ** 20);
  const out = openSync(file, 'w');
  for (let written = 0; written < size; written += block.length) writeSync(out, block);
  // On disk before the server starts: its first commits must not flush the set-up's writes.
  fsyncSync(out);
  closeSync(out);
  // The downloaded copy goes to memory where there is a tmpfs. A client on the server's
  // own disk makes the server's commits (an fsync each) wait for the client's writes, a
  // cost no deployment has: there the client is another machine.
  const downloads = existsSync('/dev/shm')
    ? mkdtempSync(path.join('/dev/shm', 'confab-bench-downloads-'))
    : path.join(work, 'downloads');
  mkdirSync(downloads, { recursive: true });
  try {
    return await withRig(
      ctx,
      { 'files.maxBytes': '1GiB', 'files.quotaBytes': '4GiB' },
      async (server, generator) => {
        const chatMembers = 50;
        const connected = await generator.connect(
          server.port,
          clientSpecs(chatMembers, 'chat'),
          16,
        );
        if (connected.failed > 0) throw new Error(`files setup: ${connected.firstError}`);
        await settle(server);
        const plans: SenderPlan[] = Array.from({ length: 5 }, (_, i) => ({
          client: i,
          senderNo: i + 1,
          target: { kind: 'room', room: LOBBY },
          rate: 20,
          window: 1000,
          maxMessages: 1_000_000,
        }));
        ctx.log('  chat alone…');
        const quiet = await runLoad(server, generator, plans, 2000, chatMembers - 1);
        const before = await server.stats(true);
        ctx.log(`  ${formatCount(size / 2 ** 20)} MiB up and down, chat meanwhile…`);
        const child = fork(
          path.join(here, 'file-client.js'),
          [String(server.port), file, downloads],
          {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          },
        );
        const report = new Promise<FileClientReport>((resolve, reject) => {
          child.once('message', (message: FileClientReport) => resolve(message));
          child.once('exit', (code) => reject(new Error(`file client exited (${code})`)));
        });
        let transferDone = false;
        void report.then(
          () => (transferDone = true),
          () => (transferDone = true),
        );
        // Chat runs in slices until the transfer ends, so its latency covers the transfer.
        const during: LoadOutcome[] = [];
        const deadline = performance.now() + 600_000;
        while (!transferDone && performance.now() < deadline)
          during.push(await runLoad(server, generator, plans, 2000, chatMembers - 1));
        const result = await report;
        const after = await server.stats();
        const latency = new LatencyHistogram();
        for (const slice of during) latency.merge(slice.latency.snapshot());
        const mbps = (bytes: number, ms: number) =>
          `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
        const lost = during.filter((slice) => !integrity(slice).ok).length;
        return {
          name: 'files',
          title: `File transfer: a ${formatCount(size / 2 ** 20)} MiB file over loopback`,
          rows: [
            {
              metric: 'upload (client → server, stored, SHA-256 checked)',
              value: mbps(result.size, result.uploadMs),
            },
            {
              metric: 'download (server → client, SHA-256 checked)',
              value: mbps(result.size, result.downloadMs),
            },
            {
              metric: 'peak RSS: server / file client',
              value: `${formatCount(after.maxRss / 2 ** 20)} MiB (before the transfer: ${formatCount(before.rss / 2 ** 20)} MiB) / ${formatCount(result.maxRss / 2 ** 20)} MiB`,
            },
            ...latencyRows(`chat (${chatMembers} members, 100 messages/s) alone`, quiet),
            {
              metric: 'chat during the transfer: latency p50 / p99 / max',
              value: `${formatMicros(latency.quantile(0.5))} / ${formatMicros(latency.quantile(0.99))} / ${formatMicros(latency.max)}`,
              target: 'p99 within 2 ms of chat alone',
              met: latency.quantile(0.99) <= quiet.latency.quantile(0.99) + 2000,
            },
            {
              metric: 'chat during the transfer: integrity',
              value:
                lost === 0
                  ? `0 lost, 0 duplicated (${formatCount(latency.count)} deliveries)`
                  : `${lost} slices with losses`,
              target: '0 lost or duplicated',
              met: lost === 0,
            },
          ],
          notes: [],
        };
      },
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(downloads, { recursive: true, force: true });
  }
}

// ---- history backfill ------------------------------------------------------------------

/** Messages a client pages back through in the backfill scenario. */
const BACKFILL_MESSAGES = 10_000;
/** `/history` gives at most this many per request (HISTORY_MAX in the core). */
const BACKFILL_PAGE = 500;

/**
 * Chat in a 50-member room at 100 messages/s, alone and while one client pages back
 * through 10,000 messages of another room's history (`/history` 500 at a time, from the
 * newest), again and again until the chat slice ends: what a large read costs everyone
 * else's latency now that reads share the event loop with chat and writes do not.
 */
export async function backfill(ctx: RunContext): Promise<ScenarioResult> {
  const total = ctx.quick ? 2_000 : BACKFILL_MESSAGES;
  return withRig(ctx, {}, async (server, generator) => {
    const chatMembers = 50;
    const connected = await generator.connect(server.port, clientSpecs(chatMembers, 'chat'), 16);
    if (connected.failed > 0) throw new Error(`backfill setup: ${connected.firstError}`);
    const reader = await ChatClient.connect({ host: '127.0.0.1', port: server.port });
    try {
      await reader.login('archivist');
      await reader.request('create', { room: 'archive' });
      ctx.log(`  storing ${formatCount(total)} messages in #archive…`);
      for (let sent = 0; sent < total;) {
        const batch: Promise<unknown>[] = [];
        for (let i = 0; i < 200 && sent < total; i++, sent++)
          batch.push(reader.request('say', { room: 'archive', text: `archived message ${sent}` }));
        await Promise.all(batch);
      }
      await settle(server);
      const plans: SenderPlan[] = Array.from({ length: 5 }, (_, i) => ({
        client: i,
        senderNo: i + 1,
        target: { kind: 'room', room: LOBBY },
        rate: 20,
        window: 1000,
        maxMessages: 1_000_000,
      }));
      const sliceMs = ctx.quick ? 2000 : 5000;
      ctx.log('  chat alone…');
      const quiet = await runLoad(server, generator, plans, sliceMs, chatMembers - 1);
      ctx.log(`  chat while ${formatCount(total)} messages are paged back, over and over…`);
      let stop = false;
      let pages = 0;
      let backfills = 0;
      const pageTimes: number[] = [];
      const paging = (async () => {
        while (!stop && backfills < 1000) {
          let before: number | undefined;
          let read = 0;
          for (;;) {
            const started = performance.now();
            const page = await reader.request<{
              messages: Array<{ mid: number }>;
              more: boolean;
            }>('history', {
              room: 'archive',
              count: BACKFILL_PAGE,
              ...(before !== undefined && { before }),
            });
            pageTimes.push(performance.now() - started);
            pages++;
            read += page.messages.length;
            if (!page.more || page.messages.length === 0 || stop) break;
            before = page.messages[0]!.mid;
          }
          if (read >= total) backfills++;
        }
      })();
      const during = await runLoad(server, generator, plans, sliceMs, chatMembers - 1);
      stop = true;
      await paging;
      const p99 = during.latency.quantile(0.99);
      const idle = quiet.latency.quantile(0.99);
      return {
        name: 'backfill',
        title: `Chat during a ${formatCount(total)}-message history backfill`,
        rows: [
          ...latencyRows(`chat (${chatMembers} members, 100 messages/s) alone`, quiet),
          {
            metric: 'chat during the backfill: latency p50 / p99 / max',
            value: `${formatMicros(during.latency.quantile(0.5))} / ${formatMicros(p99)} / ${formatMicros(during.latency.max)}`,
            target: 'p99 within 2 ms of chat alone',
            met: p99 <= idle + 2000,
          },
          integrityRow('chat during the backfill', during),
          {
            metric: `backfill: whole ${formatCount(total)}-message passes / pages of ${BACKFILL_PAGE} during the slice`,
            value: `${backfills} / ${pages}; a page takes ${formatMicros(quantileOf(pageTimes, 0.5) * 1000)} (median), ${formatMicros(quantileOf(pageTimes, 0.99) * 1000)} (p99)`,
          },
          cpuRow('chat during the backfill', during),
        ],
        notes: [
          "One client pages back through a room's stored history with /history (500 per request, `before` the oldest it has) while 5 members chat in the lobby at 20 messages/s each (50 members, 49 deliveries per message).",
        ],
      };
    } finally {
      reader.destroy();
    }
  });
}

async function commandsOfServer(ctx: RunContext): Promise<string[]> {
  return withRig(ctx, {}, async (server) => {
    const client = await ChatClient.connect({ host: '127.0.0.1', port: server.port });
    const names = client.commands.map((command) => command.name);
    client.destroy();
    return names;
  });
}

export const SCENARIOS = {
  capacity,
  fanout,
  pm: privateMessages,
  floor: privateMessageFloor,
  core: corePrivateMessages,
  backfill,
  logins: loginStorm,
  storage,
  files,
  irc,
  ws: webSockets,
  cluster,
} as const satisfies Record<string, (ctx: RunContext) => Promise<ScenarioResult>>;

export type ScenarioName = keyof typeof SCENARIOS;
