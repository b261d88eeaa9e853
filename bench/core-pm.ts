import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServerConfig } from '../src/config/config.js';
import type { Link, Outlet, ServerFrame } from '../src/core/session.js';
import { encodeServerFrame } from '../src/protocol/codec.js';
import { startServer } from '../src/server/server.js';
import { LOAD_END, LOAD_START } from './gc-trace.js';
import { mainThreadCpuMicros } from './process-stats.js';

/**
 * The private-message path without sockets or a generator: clients in pairs call
 * `ChatCore.receive` directly, with the real SQLite store (WAL, synchronous=FULL) in a
 * temporary data dir and outlets that encode every frame and drop it. What it costs is the
 * chat core's, the store's and the encoder's work per message and nothing else, so its
 * figure moves by a few percent between runs where the loopback scenarios move by tens.
 * Prints one JSON line. argv: MESSAGES [PAIRS] [WINDOW].
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
}

interface BenchClient {
  readonly index: number;
  link: Link | undefined;
  nextId: number;
  outstanding: number;
  onReply: () => void;
}

async function main(): Promise<void> {
  const [messagesText = '100000', pairsText = '50', windowText = '20'] = process.argv.slice(2);
  const messages = Number(messagesText);
  const pairs = Number(pairsText);
  const window = Number(windowText);
  const dir = mkdtempSync(path.join(tmpdir(), 'confab-core-pm-'));
  const config = ServerConfig.load({
    flags: {
      host: '127.0.0.1',
      port: 0,
      data: dir,
      set: ['flood.perSecond=1000000', 'flood.burst=1000000', 'maxUsers=100000'],
    },
    env: {},
  });
  const server = await startServer(config, {
    adminPassword: 'core-pm-bench-password-x',
    // CONFAB_BENCH_METRICS=off: without the metrics, to measure what they cost (issue 20).
    metrics: process.env.CONFAB_BENCH_METRICS !== 'off',
    webPort: false,
  });
  const core = server.core;
  let replies = 0;
  let delivered = 0;
  const clients: BenchClient[] = [];
  for (let index = 0; index < pairs * 2; index++) {
    const client: BenchClient = {
      index,
      link: undefined,
      nextId: 1,
      outstanding: 0,
      onReply: () => undefined,
    };
    const outlet: Outlet = {
      transport: 'bench',
      address: '127.0.0.1',
      port: 1,
      send(frame: ServerFrame) {
        encodeServerFrame(frame);
        if ('re' in frame) {
          if (frame.re === null) return;
          replies++;
          client.outstanding--;
          client.onReply();
        } else if (frame.ev === 'private') delivered++;
      },
      close() {},
    };
    client.link = core.attach(outlet);
    clients.push(client);
  }
  const call = (client: BenchClient, cmd: string, args: object) => {
    client.outstanding++;
    return core.receive(client.link!, { id: client.nextId++, cmd, args });
  };
  await Promise.all(clients.map((client) => call(client, 'nick', { nick: `p${client.index}` })));
  replies = 0;
  let sent = 0;
  const text = '~1.1.1 lorem ipsum dolor sit amet consectetur';
  const finished = new Promise<void>((resolve) => {
    for (const client of clients) {
      const to = [`p${client.index ^ 1}`];
      client.onReply = () => {
        while (client.outstanding < window && sent < messages) {
          sent++;
          void call(client, 'msg', { to, text });
        }
        if (replies >= messages) resolve();
      };
    }
  });
  // Under --trace-gc-nvp, the collections between these lines are the load's.
  console.log(LOAD_START);
  const cpuBefore = process.cpuUsage();
  const mainBefore = mainThreadCpuMicros();
  const started = performance.now();
  for (const client of clients) client.onReply();
  await finished;
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const mainAfter = mainThreadCpuMicros();
  console.log(LOAD_END);
  const result: CorePmResult = {
    messages,
    pairs,
    window,
    ms,
    cpuMicros: cpu.user + cpu.system,
    mainThreadCpuMicros:
      mainBefore === undefined || mainAfter === undefined ? undefined : mainAfter - mainBefore,
    delivered,
  };
  console.log(JSON.stringify(result));
  await server.stop(0);
  rmSync(dir, { recursive: true, force: true });
}

await main();
process.exit(0);
