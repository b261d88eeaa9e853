import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { ServerConfig } from '../src/config/config.js';
import { isParameterKey } from '../src/config/parameters.js';
import { startServer } from '../src/server/server.js';
import type { ServerCommand, ServerReply } from './ipc.js';
import { processStats } from './process-stats.js';

/**
 * The server under test, in its own process so that its RSS and CPU are its own. It is the
 * embedded default (SQLite in a temporary data dir, storage on), on loopback, with the
 * limits the benchmark must exceed raised. argv: DATA_DIR and a JSON object of parameters.
 */
const [dataDir, paramsJson] = process.argv.slice(2);
if (!dataDir || !paramsJson) throw new Error('usage: server-child DATA_DIR PARAMS_JSON');
const wanted = JSON.parse(paramsJson) as Record<string, string | number>;
// Limits added by other work may not exist in this build: skip those rather than fail.
const skipped = Object.keys(wanted).filter((key) => !isParameterKey(key));
const config = ServerConfig.load({
  flags: {
    host: '127.0.0.1',
    port: 0,
    webPort: 0,
    data: dataDir,
    // The IRC gateway is on for every run: an idle listener costs nothing measurable.
    ircPort: 0,
    set: Object.entries(wanted)
      .filter(([key]) => isParameterKey(key))
      .map(([key, value]) => `${key}=${value}`),
  },
  env: {},
});
// CONFAB_BENCH_METRICS=off runs the server without its metrics, to measure what they cost.
const server = await startServer(config, {
  adminPassword: 'bench-admin-password-not-secret',
  metrics: process.env.CONFAB_BENCH_METRICS !== 'off',
  // The WebSocket scenario needs the web listener, on a free port; the others leave it off.
  webPort: process.env.CONFAB_BENCH_WEB === '1' ? 0 : false,
});
const send = (message: ServerReply) => process.send!(message);

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (message: ServerCommand) => {
  if (message.type === 'exit') {
    // No graceful stop: announcing 10,000 leaves to everyone is not what is measured.
    process.exit(0);
  }
  if (message.gc && gc) {
    gc();
    gc();
  }
  // CONFAB_BENCH_HEAP_SNAPSHOTS=DIR: a heap snapshot at each measuring point (the stats
  // asked for after a collection), to see what each connection holds (before and after the
  // logins of `capacity`).
  const snapshots = process.env.CONFAB_BENCH_HEAP_SNAPSHOTS;
  if (snapshots && message.gc)
    writeHeapSnapshot(path.join(snapshots, `server-${Date.now()}.heapsnapshot`));
  void server.core.store.messages
    .count()
    .then((storedMessages) => send(processStats(server.core.onlineCount, storedMessages)));
});
process.on('disconnect', () => process.exit(0));
send({
  type: 'ready',
  port: server.address.port,
  ircPort: server.ircAddress?.port,
  ...(server.webAddress && { webPort: server.webAddress.port }),
  skipped,
});
