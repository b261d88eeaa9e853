import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Bus, BusEnvelope } from '../../src/bus/bus.js';
import { LocalBusNetwork } from '../../src/bus/local-bus.js';
import { ChatClient } from '../../src/client/client.js';
import { ServerConfig } from '../../src/config/config.js';
import { LocalDirectory, type SessionDirectory } from '../../src/core/directory/directory.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { DiskBlobStore } from '../../src/store/blobs.js';
import type { Store } from '../../src/store/store.js';
import { makeDataDir, openTestStore, TEST_ADMIN_PASSWORD } from './server.js';

/** Several server nodes in one process, sharing one store, one bus and one directory. */
export interface TestNodes {
  readonly nodes: readonly RunningServer[];
  /** A connected client of node `node` that has not logged in yet (from `localAddress`). */
  open(node: number, options?: { localAddress?: string }): Promise<ChatClient>;
  /** A connected, logged-in client of node `node`. */
  connect(node: number, nick: string, password?: string): Promise<ChatClient>;
  /** Stops every node, closes the shared store and deletes the data. */
  dispose(): Promise<void>;
}

/**
 * Builds `count` nodes as a cluster would run them: each its own core, listener, config
 * and logs; all on one in-process bus network, one session directory, one SQLite store
 * and one files folder (what PostgreSQL, Redis and a shared volume are to a cluster).
 */
export async function startTestNodes(
  count: number,
  options: {
    readonly set?: Readonly<Record<string, string | number>>;
    /** Each node also listens for IRC clients on an ephemeral port. */
    readonly irc?: boolean;
    /** Wraps the shared store (a test that makes some calls late on purpose). */
    readonly wrapStore?: (store: Store) => Store;
    /** The shared directory (a test that makes some claims late on purpose). */
    readonly directory?: SessionDirectory;
    /** Wraps node `index`'s bus (a test that cuts a node off for a while). */
    readonly wrapBus?: (bus: Bus, index: number) => Bus;
  } = {},
): Promise<TestNodes> {
  const root = makeDataDir();
  // Answering late under CONFAB_TEST_STORE_LATENCY, as every test server's store does.
  const opened = openTestStore(root).store;
  const store = options.wrapStore ? options.wrapStore(opened) : opened;
  const network = new LocalBusNetwork();
  const directory = options.directory ?? new LocalDirectory();
  const blobs = new DiskBlobStore(path.join(root, 'files'));
  const nodes: RunningServer[] = [];
  for (let i = 0; i < count; i++) {
    const dataDir = path.join(root, `node-${i}`);
    mkdirSync(dataDir);
    const config = ServerConfig.load({
      flags: {
        host: '127.0.0.1',
        port: 0,
        data: dataDir,
        ...(options.irc && { ircPort: 0 }),
        set: Object.entries(options.set ?? {}).map(([key, value]) => `${key}=${value}`),
      },
      env: {},
    });
    nodes.push(
      await startServer(config, {
        adminPassword: TEST_ADMIN_PASSWORD,
        store,
        sharedStore: true,
        bus: options.wrapBus
          ? options.wrapBus(network.join(`node-${i}`), i)
          : network.join(`node-${i}`),
        directory,
        blobs,
        // Several servers in one process: none takes the fixed web port.
        webPort: false,
      }),
    );
  }
  const clients: ChatClient[] = [];
  const open = async (node: number, options: { localAddress?: string } = {}) => {
    const client = await ChatClient.connect({
      host: '127.0.0.1',
      port: nodes[node]!.address.port,
      ...options,
    });
    clients.push(client);
    return client;
  };
  return {
    nodes,
    open,
    async connect(node, nick, password) {
      const client = await open(node);
      await client.login(nick, password);
      return client;
    },
    async dispose() {
      for (const client of clients) client.destroy();
      for (const node of nodes) await node.stop(0);
      await store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A node's bus that can be cut off: while `cut`, it receives nothing (as a node whose
 * connection to the broker is down), though it still sends.
 */
export class CuttableBus implements Bus {
  cut = false;

  constructor(private readonly inner: Bus) {}

  get nodeId(): string {
    return this.inner.nodeId;
  }

  publish(envelope: BusEnvelope): void {
    this.inner.publish(envelope);
  }

  sendTo(node: string, envelope: BusEnvelope): void {
    this.inner.sendTo(node, envelope);
  }

  subscribe(handler: (envelope: BusEnvelope) => void): () => void {
    return this.inner.subscribe((envelope) => {
      if (!this.cut) handler(envelope);
    });
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
