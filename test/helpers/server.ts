import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChatClient } from '../../src/client/client.js';
import { ServerConfig } from '../../src/config/config.js';
import { startServer, type RunningServer, type StartOptions } from '../../src/server/server.js';
import {
  parseStoreLatency,
  STORE_LATENCY_ENV,
  withLatency,
  type LatencyRange,
} from '../../src/store/latency-store.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

export const TEST_ADMIN_PASSWORD = 'test-admin-password-1';

export interface TestServer {
  readonly server: RunningServer;
  readonly port: number;
  readonly dataDir: string;
  /** The SQLite database under the store: the main thread's connection, which reads. */
  readonly database: SqliteStore['db'];
  /**
   * A pragma on the connection that writes (the writer thread's): tests inject faults there,
   * a full disk (`max_page_count`) or a read-only file (`query_only`).
   */
  writerPragma(text: string): Promise<unknown>;
  /** A connected client that has not logged in yet (from `localAddress`, e.g. 127.0.0.2). */
  open(options?: { localAddress?: string }): Promise<ChatClient>;
  /** A connected, logged-in client. */
  connect(nick: string, password?: string): Promise<ChatClient>;
  stop(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  dispose(): Promise<void>;
}

export interface TestServerOptions extends Omit<StartOptions, 'store'> {
  /** Parameters, as `--set` would give them. */
  readonly set?: Readonly<Record<string, string | number>>;
  /** Reuse a data directory (to test restarts). */
  readonly dataDir?: string;
  /** A fixed port instead of an ephemeral one (to restart on the same address). */
  readonly port?: number;
  /** `--store`: a `postgres://…?schema=…` URL (default: SQLite in the data directory). */
  readonly store?: string;
  /** Serve TLS with these PEM files; `open`/`connect` then speak plain TCP to `loopbackPort`. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Start the IRC gateway too (0: an ephemeral port); `ircTlsPort` needs `tls`. */
  readonly ircPort?: number;
  readonly ircTlsPort?: number;
  /** Also start the web listener (browser client, `/ws`) on a free port. */
  readonly web?: boolean;
  /** Environment the config reads (`CONFAB_WEB_ALLOWED_ORIGINS`, …). */
  readonly env?: Readonly<Record<string, string>>;
  /** With `web`: this port instead (to restart on the same address). */
  readonly webPort?: number;
  /**
   * Wrap the store with this latency whatever `CONFAB_TEST_STORE_LATENCY` says; `null`:
   * never wrap it (a test whose output must not depend on commit order).
   */
  readonly storeLatency?: LatencyRange | null;
}

/**
 * The store a test server uses: SQLite in its data directory, answering late when
 * `CONFAB_TEST_STORE_LATENCY=MIN:MAX` is set (every call takes MIN to MAX ms), so the
 * suite can show that nothing relies on a store answering at once or in call order.
 */
export function openTestStore(
  dataDir: string,
  latency: LatencyRange | null | undefined = parseStoreLatency(process.env[STORE_LATENCY_ENV]),
): { store: Store; backend: SqliteStore } {
  const backend = SqliteStore.open(dataDir);
  return { store: latency ? withLatency(backend, latency) : backend, backend };
}

/** The same for a PostgreSQL store (`store` option), latency included. */
async function openTestPostgresStore(
  url: string,
  latency: LatencyRange | null | undefined = parseStoreLatency(process.env[STORE_LATENCY_ENV]),
): Promise<{ store: Store; backend: PostgresStore }> {
  const backend = await PostgresStore.open(url);
  return { store: latency ? withLatency(backend, latency) : backend, backend };
}

export function makeDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'confab-test-'));
}

/** A real server on 127.0.0.1, an ephemeral port and a temporary data directory. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? makeDataDir();
  const config = ServerConfig.load({
    flags: {
      host: '127.0.0.1',
      port: options.port ?? 0,
      data: dataDir,
      ...(options.tls && {
        tlsCert: options.tls.certFile,
        tlsKey: options.tls.keyFile,
        loopbackPort: 0,
      }),
      ...(options.ircPort !== undefined && { ircPort: options.ircPort }),
      ...(options.ircTlsPort !== undefined && { ircTlsPort: options.ircTlsPort }),
      set: Object.entries(options.set ?? {}).map(([key, value]) => `${key}=${value}`),
    },
    env: { ...options.env },
  });
  const { store, backend } = options.store
    ? await openTestPostgresStore(options.store, options.storeLatency)
    : openTestStore(dataDir, options.storeLatency);
  const server = await startServer(config, {
    store,
    adminPassword: options.adminPassword ?? TEST_ADMIN_PASSWORD,
    ...(options.clock && { clock: options.clock }),
    ...(options.blobs && { blobs: options.blobs }),
    webPort: options.web ? (options.webPort ?? 0) : false,
    ...(options.webRoot && { webRoot: options.webRoot }),
  });
  const port = server.address.port;
  const plainPort = server.loopbackAddress?.port ?? port;
  const clients: ChatClient[] = [];
  const open = async (options: { localAddress?: string } = {}) => {
    const client = await ChatClient.connect({ host: '127.0.0.1', port: plainPort, ...options });
    clients.push(client);
    return client;
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const client of clients) client.destroy();
    await server.stop(0);
  };
  return {
    server,
    port,
    dataDir,
    get database() {
      if (!(backend instanceof SqliteStore)) throw new Error('this test server runs on PostgreSQL');
      return backend.db;
    },
    writerPragma(text) {
      if (!(backend instanceof SqliteStore)) throw new Error('this test server runs on PostgreSQL');
      return backend.writerPragma(text);
    },
    open,
    async connect(nick, password) {
      const client = await open();
      await client.login(nick, password);
      return client;
    },
    stop,
    async dispose() {
      await stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
