import type {
  ClientSpec,
  SeenSummary,
  SenderPlan,
  SenderResult,
  WorkerCommand,
  WorkerReply,
} from './ipc.js';
import { IrcLeanClient } from './irc-lean-client.js';
import {
  LeanClient,
  markerText,
  nowMicros,
  type BenchClient,
  type Receiver,
} from './lean-client.js';
import { LatencyHistogram, SequenceTracker } from './stats.js';

/**
 * A load-generator process: it holds a share of the benchmark's clients, logs them in,
 * runs senders and records every marked delivery its clients receive. The runner forks
 * several so that the generator uses more than one core and is not the bottleneck.
 */

/** Padding after the marker, so a message is the size of a short chat line (~64 bytes). */
const PADDING = 'lorem ipsum dolor sit amet consectetur';
const HANDSHAKE_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 30_000;

const clients = new Map<number, BenchClient>();
const trackers = new Map<number, SequenceTracker>();
const histogram = new LatencyHistogram();
let lastAt = 0;
let senderHooks = new Map<BenchClient, (re: number, ok: boolean, line: string) => void>();

const receiver: Receiver = {
  onMarked(client, sender, seq, sentAt, now) {
    histogram.record(now - sentAt);
    lastAt = now;
    let tracker = trackers.get(client.index);
    if (!tracker) {
      tracker = new SequenceTracker();
      trackers.set(client.index, tracker);
    }
    tracker.see(sender, seq);
  },
  onReply(client, re, ok, line) {
    senderHooks.get(client)?.(re, ok, line);
  },
};

function reply(message: WorkerReply): void {
  process.send!(message);
}

async function connectAll(
  host: string,
  port: number,
  specs: readonly ClientSpec[],
  concurrency: number,
): Promise<WorkerReply> {
  const started = performance.now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const one = async (spec: ClientSpec) => {
    try {
      const options = {
        index: spec.index,
        host,
        port,
        localAddress: spec.localAddress,
        receiver,
        timeoutMs: HANDSHAKE_TIMEOUT_MS,
      };
      const client: BenchClient =
        spec.protocol === 'irc'
          ? await IrcLeanClient.connect(options)
          : await LeanClient.connect(options);
      const login = await client.call('nick', { nick: spec.nick });
      if (!login.ok) throw new Error(`login refused: ${login.line}`);
      clients.set(spec.index, client);
      ok++;
    } catch (error) {
      failed++;
      firstError ??= (error as Error).message;
    }
  };
  const lane = async () => {
    while (next < specs.length) await one(specs[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return { type: 'connected', ok, failed, firstError, ms: performance.now() - started };
}

/** Paced senders share one 2 ms tick: a timer each would swamp a generator of 1,000. */
const pacers = new Set<() => void>();
let pacerTimer: NodeJS.Timeout | undefined;

function addPacer(pace: () => void): void {
  pacers.add(pace);
  pacerTimer ??= setInterval(() => {
    for (const each of [...pacers]) each();
    if (pacers.size === 0) {
      clearInterval(pacerTimer);
      pacerTimer = undefined;
    }
  }, 2);
}

/** Runs every sender until its count or the duration is reached, then waits for its acks. */
function runLoad(plans: readonly SenderPlan[], durationMs: number): Promise<WorkerReply> {
  const started = performance.now();
  const deadline = started + durationMs;
  let firstError: string | undefined;
  senderHooks = new Map();
  const runs = plans.map((plan) => {
    const client = clients.get(plan.client);
    const result = { senderNo: plan.senderNo, sent: 0, acked: 0, failed: 0 };
    if (!client) {
      firstError ??= `sender client ${plan.client} is not connected here`;
      return Promise.resolve(result);
    }
    const sendOne = () => {
      result.sent++;
      client.sendMessage(plan.target, markerText(plan.senderNo, result.sent, nowMicros(), PADDING));
    };
    const outstanding = () => result.sent - result.acked - result.failed;
    const mayStart = () =>
      result.sent < plan.maxMessages && performance.now() < deadline && !client.isClosed;
    return new Promise<SenderResult>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        pacers.delete(pace);
        resolve(result);
      };
      // Paced: message k is due at (k − 1 + phase)/rate seconds; the shared tick catches up with what is due.
      const pace = () => {
        if (plan.rate === 'max') return;
        const due = Math.min(
          plan.maxMessages,
          Math.floor(((performance.now() - started) * plan.rate) / 1000 + 1 - (plan.phase ?? 0)),
        );
        while (result.sent < due && outstanding() < plan.window && mayStart()) sendOne();
        if (!mayStart() && outstanding() === 0) finish();
      };
      senderHooks.set(client, (_re, ok, line) => {
        if (ok) result.acked++;
        else {
          result.failed++;
          firstError ??= line.slice(0, 200);
        }
        if (plan.rate === 'max') {
          while (outstanding() < plan.window && mayStart()) sendOne();
          if (!mayStart() && outstanding() === 0) finish();
        } else pace();
      });
      if (plan.rate === 'max') {
        while (outstanding() < plan.window && mayStart()) sendOne();
      } else {
        addPacer(pace);
      }
      // Bounded: whatever happens, give up waiting for acks after the drain timeout.
      setTimeout(finish, durationMs + DRAIN_TIMEOUT_MS).unref();
    });
  });
  return Promise.all(runs).then((senders) => ({
    type: 'loaded',
    senders,
    firstError,
    ms: performance.now() - started,
  }));
}

/** Every chosen client makes one request (joining a room...), a bounded number at a time. */
async function callAll(
  chosen: readonly number[] | undefined,
  cmd: string,
  args: object,
): Promise<WorkerReply> {
  const targets = chosen
    ? chosen.flatMap((index) => clients.get(index) ?? [])
    : [...clients.values()];
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const lane = async () => {
    while (next < targets.length) {
      const answer = await targets[next++]!.call(cmd, args);
      if (answer.ok) ok++;
      else {
        failed++;
        firstError ??= answer.line.slice(0, 200);
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
  return { type: 'called', ok, failed, firstError };
}

function collect(): WorkerReply {
  const perSender = new Map<number, { receivers: number; minLast: number; maxLast: number }>();
  let received = 0;
  let violations = 0;
  for (const tracker of trackers.values()) {
    received += tracker.received;
    violations += tracker.violations;
    for (const [sender, last] of tracker.lastSeen()) {
      const entry = perSender.get(sender);
      if (!entry) perSender.set(sender, { receivers: 1, minLast: last, maxLast: last });
      else {
        entry.receivers++;
        entry.minLast = Math.min(entry.minLast, last);
        entry.maxLast = Math.max(entry.maxLast, last);
      }
    }
  }
  const seen: SeenSummary[] = [...perSender].map(([senderNo, entry]) => ({ senderNo, ...entry }));
  let bytesIn = 0;
  let framesIn = 0;
  for (const client of clients.values()) {
    bytesIn += client.bytesIn;
    framesIn += client.framesIn;
  }
  const cpu = process.cpuUsage();
  return {
    type: 'collected',
    histogram: histogram.snapshot(),
    received,
    violations,
    seen,
    bytesIn,
    framesIn,
    lastAt,
    cpuMicros: cpu.user + cpu.system,
    rss: process.memoryUsage.rss(),
  };
}

function reset(): void {
  histogram.reset();
  lastAt = 0;
  trackers.clear();
  for (const client of clients.values()) {
    client.bytesIn = 0;
    client.framesIn = 0;
  }
}

process.on('message', (message: WorkerCommand) => {
  switch (message.type) {
    case 'connect':
      void connectAll(message.host, message.port, message.clients, message.concurrency).then(reply);
      return;
    case 'load':
      void runLoad(message.senders, message.durationMs).then(reply);
      return;
    case 'call':
      void callAll(message.clients, message.cmd, message.args).then(reply);
      return;
    case 'collect':
      reply(collect());
      return;
    case 'reset':
      reset();
      return;
    case 'exit':
      for (const client of clients.values()) client.destroy();
      process.exit(0);
  }
});
// The runner going away ends this process too: no orphaned load generators.
process.on('disconnect', () => process.exit(0));
