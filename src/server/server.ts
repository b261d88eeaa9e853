import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { LocalBus } from '../bus/local-bus.js';
import type { ServerConfig } from '../config/config.js';
import { ChatCore } from '../core/chat-core.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ALL_COMMANDS } from '../core/commands/index.js';
import { openLogs } from '../logging/logs.js';
import { DiskBlobStore, type BlobStore } from '../store/blobs.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { FileService } from '../core/files/file-service.js';
import { NativeListener } from '../transport/native/listener.js';
import { VERSION } from '../version.js';
import { ensureAdminAccount, type AdminBootstrap } from './admin-bootstrap.js';

export interface StartOptions {
  readonly clock?: Clock;
  /** Password for the admin account if the data directory has none yet. */
  readonly adminPassword?: string;
  /** Where transferred files' bytes go; default `<dataDir>/files` (tests inject faults). */
  readonly blobs?: BlobStore;
}

export interface RunningServer {
  readonly address: AddressInfo;
  readonly core: ChatCore;
  readonly config: ServerConfig;
  readonly admin: AdminBootstrap;
  readonly logDir: string;
  /** Countdown to everyone, then a clean stop: sessions closed, store flushed. */
  stop(seconds?: number, reason?: string): Promise<void>;
}

/**
 * Wires one server process: store, bus, core and transports, all from one config.
 * Nothing here is global, so a test can run several servers in one process.
 */
export async function startServer(
  config: ServerConfig,
  options: StartOptions = {},
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const logs = openLogs(config.server.dataDir);
  const store = SqliteStore.open(config.server.dataDir);
  const admin = await ensureAdminAccount(store, options.adminPassword, clock.now());
  const bus = new LocalBus();
  const core = new ChatCore({
    config,
    store,
    bus,
    clock,
    logger: logs.logger,
    messageLog: logs.messageLog,
    commands: ALL_COMMANDS,
    version: VERSION,
  });
  await core.restore();
  await FileService.install(
    core,
    options.blobs ?? new DiskBlobStore(path.join(config.server.dataDir, 'files')),
  );
  const { tlsCert, tlsKey } = config.server;
  const listener = new NativeListener(core, logs.logger, {
    host: config.server.host,
    port: config.server.port,
    ...(tlsCert && tlsKey && { tls: { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) } }),
  });
  let address: AddressInfo;
  try {
    address = await listener.listen();
  } catch (error) {
    await store.close();
    throw error;
  }
  logs.logger.info(
    { event: 'listening', address: address.address, port: address.port },
    'listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = (seconds = 0, reason?: string): Promise<void> => {
    stopping ??= (async () => {
      const accepting = listener.stopAccepting();
      await core.shutdown(seconds, reason);
      await accepting;
      listener.destroyAll();
      await bus.close();
      await store.close();
      logs.logger.info({ event: 'stopped' }, 'stopped');
      await logs.flush();
    })();
    return stopping;
  };
  return { address, core, config, admin, logDir: logs.dir, stop };
}
