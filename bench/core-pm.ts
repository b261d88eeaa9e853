import path from 'node:path';
import v8 from 'node:v8';
import { type CoreClient, profileAllocations, startCoreBench } from './core-harness.js';
import { LOAD_END, LOAD_START } from './gc-trace.js';
import { mainThreadCpuMicros } from './process-stats.js';

/**
 * The private-message path without sockets or a generator: clients in pairs call
 * `ChatCore.receive` directly, with the real SQLite store (WAL, synchronous=FULL) in a
 * temporary data dir and outlets that encode every frame and drop it. What it costs is the
 * chat core's, the store's and the encoder's work per message and nothing else, so its
 * figure moves by a few percent between runs where the loopback scenarios move by tens.
 * Prints one JSON line. argv: MESSAGES [PAIRS] [WINDOW].
 *
 * CONFAB_BENCH_ALLOC_PROFILE=FILE samples the load's allocations (`profileAllocations`).
 * CONFAB_BENCH_INFLIGHT_SNAPSHOTS=DIR writes a heap snapshot halfway through the load
 * (every sender's window waiting for its commit: what messages keep alive until then) and
 * one after it; `node dist/bench/snapshot-diff.js DIR/inflight.heapsnapshot
 * DIR/after.heapsnapshot 2000` gives the difference per message in flight.
 */
export interface CorePmResult {
  readonly messages: number;
  readonly pairs: number;
  readonly window: number;
  readonly ms: number;
  readonly cpuMicros: number;
  /** The main thread alone (the event loop), where Linux says. */
  readonly mainThreadCpuMicros: number | undefined;
  readonly delivered: number;
  /** Store commits during the load (undefined with the metrics off). */
  readonly commits: number | undefined;
}

async function main(): Promise<void> {
  const [messagesText = '100000', pairsText = '50', windowText = '20'] = process.argv.slice(2);
  const messages = Number(messagesText);
  const pairs = Number(pairsText);
  const window = Number(windowText);
  const bench = await startCoreBench('core-pm');
  let replies = 0;
  let delivered = 0;
  const clients: { client: CoreClient; onReply: () => void }[] = [];
  for (let index = 0; index < pairs * 2; index++) {
    const entry = { client: bench.attach(), onReply: () => undefined };
    entry.client.onFrame = (frame) => {
      if ('re' in frame) {
        if (frame.re === null) return;
        replies++;
        entry.onReply();
      } else if (frame.ev === 'private') delivered++;
    };
    clients.push(entry);
  }
  await Promise.all(
    clients.map(
      (entry, index) =>
        new Promise<void>((resolve) => {
          entry.onReply = resolve;
          entry.client.call('nick', { nick: `p${index}` });
        }),
    ),
  );
  replies = 0;
  let sent = 0;
  const snapshots = process.env.CONFAB_BENCH_INFLIGHT_SNAPSHOTS;
  let snapshotTaken = false;
  const text = '~1.1.1 lorem ipsum dolor sit amet consectetur';
  const finished = new Promise<void>((resolve) => {
    clients.forEach((entry, index) => {
      const to = [`p${index ^ 1}`];
      const { client } = entry;
      entry.onReply = () => {
        if (snapshots && !snapshotTaken && replies >= messages / 2) {
          snapshotTaken = true;
          // Once the turn's microtasks have run: the messages then wait for a commit.
          setImmediate(() => {
            const inFlight = clients.reduce((sum, each) => sum + each.client.outstanding, 0);
            v8.writeHeapSnapshot(path.join(snapshots, 'inflight.heapsnapshot'));
            console.log(`in flight at the snapshot: ${inFlight}`);
          });
        }
        while (client.outstanding < window && sent < messages) {
          sent++;
          client.call('msg', { to, text });
        }
        if (replies >= messages) resolve();
      };
    });
  });
  const commitsBefore = await bench.commits();
  const stopProfile = await profileAllocations();
  // Under --trace-gc-nvp, the collections between these lines are the load's.
  console.log(LOAD_START);
  const cpuBefore = process.cpuUsage();
  const mainBefore = mainThreadCpuMicros();
  const started = performance.now();
  for (const entry of clients) entry.onReply();
  await finished;
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const mainAfter = mainThreadCpuMicros();
  console.log(LOAD_END);
  await stopProfile();
  const commitsAfter = await bench.commits();
  const result: CorePmResult = {
    messages,
    pairs,
    window,
    ms,
    cpuMicros: cpu.user + cpu.system,
    mainThreadCpuMicros:
      mainBefore === undefined || mainAfter === undefined ? undefined : mainAfter - mainBefore,
    delivered,
    commits:
      commitsBefore === undefined || commitsAfter === undefined
        ? undefined
        : commitsAfter - commitsBefore,
  };
  console.log(JSON.stringify(result));
  if (snapshots) v8.writeHeapSnapshot(path.join(snapshots, 'after.heapsnapshot'));
  await bench.stop();
}

await main();
process.exit(0);
