import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServerConfig } from '../src/config/config.js';
import type { ChatCore } from '../src/core/chat-core.js';
import type { Link, ServerFrame } from '../src/core/session.js';
import { encodeServerFrame } from '../src/protocol/codec.js';
import { startServer } from '../src/server/server.js';

/**
 * What the in-process benches (core-pm.ts, core-room.ts) share: a real server on the
 * embedded SQLite store (WAL, synchronous=FULL) in a temporary data dir, and clients
 * attached to its core through outlets that encode every frame and drop it. No sockets and
 * no generator, so the figures are the core's, the store's and the encoder's work alone.
 */
export interface CoreBench {
  readonly core: ChatCore;
  /** Attaches a client whose outlet encodes each frame, then hands it to `onFrame`. */
  attach(): CoreClient;
  /**
   * Store commits so far (the metrics' commit count; undefined with the metrics off): the
   * writer thread's cost grows with commits as well as with writes, so a run reports both.
   */
  commits(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface CoreClient {
  readonly link: Link;
  /** Requests sent and not yet answered. */
  outstanding: number;
  /** Called with every frame the client receives, after it has been encoded. */
  onFrame: (frame: ServerFrame) => void;
  /** Sends one request; its reply arrives through the client's `onFrame`. */
  call(cmd: string, args: object): void;
}

export async function startCoreBench(name: string): Promise<CoreBench> {
  const dir = mkdtempSync(path.join(tmpdir(), `confab-${name}-`));
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
    adminPassword: `${name}-bench-password-x`,
    // CONFAB_BENCH_METRICS=off: without the metrics, to measure what they cost (issue 20).
    metrics: process.env.CONFAB_BENCH_METRICS !== 'off',
    webPort: false,
  });
  const core = server.core;
  return {
    core,
    attach() {
      let nextId = 1;
      // Declared before attach: a core may greet from inside attach, before it returns.
      let client: CoreClient | undefined = undefined;
      const link = core.attach({
        transport: 'bench',
        address: '127.0.0.1',
        port: 1,
        send(frame: ServerFrame) {
          encodeServerFrame(frame);
          if (client === undefined) return;
          if ('re' in frame && frame.re !== null) client.outstanding--;
          client.onFrame(frame);
        },
        close() {},
      });
      const attached: CoreClient = {
        link,
        outstanding: 0,
        onFrame: () => undefined,
        call(cmd, args) {
          attached.outstanding++;
          void core.receive(link, { id: nextId++, cmd, args });
        },
      };
      client = attached;
      return attached;
    },
    async commits() {
      if (!server.metrics) return undefined;
      const text = await server.metrics.render();
      const count = /^confab_store_commit_writes_count(?:\{\})? (\d+)$/m.exec(text);
      return count ? Number(count[1]) : undefined;
    },
    async stop() {
      await server.stop(0);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * CONFAB_BENCH_ALLOC_PROFILE=FILE: samples the main thread's allocations from this call
 * until the returned function is called, collected ones included (V8's sampling heap
 * profiler, one sample per 512 bytes on average), and writes them to FILE as a
 * `.heapprofile`: which functions allocate what a message costs the collector,
 * independent of the machine's load (`node dist/bench/alloc-summary.js FILE MESSAGES`).
 * Without the variable, does nothing.
 */
export async function profileAllocations(): Promise<() => Promise<void>> {
  const file = process.env.CONFAB_BENCH_ALLOC_PROFILE;
  if (!file) return async () => undefined;
  const inspector = new InspectorSession();
  inspector.connect();
  await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = await inspector.post('HeapProfiler.stopSampling');
    writeFileSync(file, JSON.stringify(profile));
    inspector.disconnect();
  };
}
