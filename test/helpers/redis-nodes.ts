import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ChatClient } from '../../src/client/client.js';
import { ServerConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from './postgres.js';
import { deletePrefix, freshPrefix, TEST_REDIS_URL } from './redis.js';
import { makeDataDir, TEST_ADMIN_PASSWORD } from './server.js';

/**
 * Several nodes in one process as a cluster runs them: each started from its own config
 * with `store: postgres://…` and `bus: redis://…` (the composition root opens its own
 * PostgreSQL pool, Redis bus and Redis directory with its lease), sharing one schema and
 * one key prefix made for this run.
 */
export interface RedisNodes {
  readonly nodes: RunningServer[];
  readonly prefix: string;
  readonly schema: string;
  readonly storeUrl: string;
  readonly busUrl: string;
  /** Starts one more node (index = its position in `nodes`). */
  add(nodeId?: string): Promise<RunningServer>;
  open(node: number): Promise<ChatClient>;
  connect(node: number, nick: string, password?: string): Promise<ChatClient>;
  dispose(): Promise<void>;
}

export async function startRedisNodes(
  count: number,
  options: { readonly set?: Readonly<Record<string, string | number>>; redisUrl?: string } = {},
): Promise<RedisNodes> {
  const root = makeDataDir();
  const schema = freshSchemaName();
  const prefix = freshPrefix();
  const storeUrl = `${TEST_PG_URL}?schema=${schema}`;
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const busUrl = `${redisUrl}?prefix=${encodeURIComponent(prefix)}`;
  const nodes: RunningServer[] = [];
  const clients: ChatClient[] = [];
  const add = async (nodeId = `node-${nodes.length}`) => {
    const dataDir = path.join(root, nodeId);
    mkdirSync(dataDir, { recursive: true });
    const config = ServerConfig.load({
      flags: {
        host: '127.0.0.1',
        port: 0,
        data: dataDir,
        store: storeUrl,
        bus: busUrl,
        nodeId,
        set: Object.entries(options.set ?? {}).map(([key, value]) => `${key}=${value}`),
      },
      env: {},
    });
    const node = await startServer(config, {
      adminPassword: TEST_ADMIN_PASSWORD,
      webPort: false,
      metrics: false,
    });
    nodes.push(node);
    return node;
  };
  try {
    // One at a time: the first migrates the schema, the others find it done.
    for (let i = 0; i < count; i++) await add();
  } catch (error) {
    for (const node of nodes) await node.stop(0).catch(() => undefined);
    await dropSchema(schema).catch(() => undefined);
    await deletePrefix(prefix, redisUrl).catch(() => undefined);
    throw error;
  }
  const open = async (node: number) => {
    const client = await ChatClient.connect({ host: '127.0.0.1', port: nodes[node]!.address.port });
    clients.push(client);
    return client;
  };
  return {
    nodes,
    prefix,
    schema,
    storeUrl,
    busUrl,
    add,
    open,
    async connect(node, nick, password) {
      const client = await open(node);
      await client.login(nick, password);
      return client;
    },
    async dispose() {
      for (const client of clients) client.destroy();
      for (const node of nodes) await node.stop(0).catch(() => undefined);
      await dropSchema(schema);
      await deletePrefix(prefix, redisUrl);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
