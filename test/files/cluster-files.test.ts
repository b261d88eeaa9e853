import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBusNetwork, type LocalBus } from '../../src/bus/local-bus.js';
import { ChatClient } from '../../src/client/client.js';
import { ServerConfig } from '../../src/config/config.js';
import { LocalDirectory } from '../../src/core/directory/directory.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { dropSchema, freshSchemaName, TEST_PG_URL } from '../helpers/postgres.js';
import { makeDataDir, TEST_ADMIN_PASSWORD } from '../helpers/server.js';
import { randomFile, storedBlobs, tempDir, transfersFor } from './helpers.js';

const PASSWORD = 'correct horse battery staple 9';

/**
 * Two nodes, each with its own PostgreSQL pool on one schema and its own data directory:
 * file bytes live in the database (the cluster's shared blobs), so a file taken by one node
 * is served by the other. The nodes share an in-process bus and directory for notices.
 */
interface Node {
  server: RunningServer;
  store: PostgresStore;
  bus: LocalBus;
  dataDir: string;
}

let schema: string;
let root: string;
let network: LocalBusNetwork;
let directory: LocalDirectory;
const clients: ChatClient[] = [];
const nodes: Node[] = [];

beforeEach(() => {
  schema = freshSchemaName();
  root = makeDataDir();
  network = new LocalBusNetwork();
  directory = new LocalDirectory();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const node of nodes.splice(0)) await stopNode(node);
  rmSync(root, { recursive: true, force: true });
  await dropSchema(schema);
});

async function startNode(id: string): Promise<Node> {
  const dataDir = path.join(root, id);
  mkdirSync(dataDir, { recursive: true });
  const config = ServerConfig.load({
    flags: { host: '127.0.0.1', port: 0, data: dataDir },
    env: {},
  });
  const store = await PostgresStore.open(TEST_PG_URL, { schema, poolSize: 4 });
  const bus = network.join(id);
  const server = await startServer(config, {
    adminPassword: TEST_ADMIN_PASSWORD,
    store,
    bus,
    directory,
    webPort: false,
  });
  const node = { server, store, bus, dataDir };
  nodes.push(node);
  return node;
}

async function stopNode(node: Node): Promise<void> {
  const index = nodes.indexOf(node);
  if (index >= 0) nodes.splice(index, 1);
  await node.server.stop(0);
  await node.bus.close();
  await node.store.close();
}

async function account(node: Node, nick: string): Promise<ChatClient> {
  const client = await ChatClient.connect({ host: '127.0.0.1', port: node.server.address.port });
  clients.push(client);
  await client.login(nick);
  await client.request('register', { password: PASSWORD });
  return client;
}

async function login(node: Node, nick: string): Promise<ChatClient> {
  const client = await ChatClient.connect({ host: '127.0.0.1', port: node.server.address.port });
  clients.push(client);
  await client.login(nick, PASSWORD);
  return client;
}

type Offer = {
  transfer: string;
  file: string;
  chunkBytes: number;
};

/** Starts an upload and sends its first `chunks` chunks; the rest comes later. */
async function partialUpload(client: ChatClient, content: Buffer, chunks: number) {
  const offer = await client.request<Offer>('upload', {
    name: 'partial.bin',
    size: content.length,
    sha256: createHash('sha256').update(content).digest('hex'),
  });
  let offset = 0;
  const push = async (until: number) => {
    while (offset < until) {
      const length = Math.min(offer.chunkBytes, until - offset);
      await client.request('filechunk', {
        transfer: offer.transfer,
        offset,
        data: content.subarray(offset, offset + length).toString('base64'),
      });
      offset += length;
    }
  };
  await push(Math.min(content.length, chunks * offer.chunkBytes));
  return {
    offer,
    async finish() {
      await push(content.length);
      return client.request<{ file: string; sha256: string }>('filedone', {
        transfer: offer.transfer,
      });
    },
  };
}

const fileRows = (store: PostgresStore) =>
  store.sql<{ id: number; state: string; node: string; storage_name: string }[]>`
    SELECT id, state, node, storage_name FROM files ORDER BY id`;
const blobNames = async (store: PostgresStore) => new Set(await store.blobs.list());

describe('files in a cluster: PostgreSQL store, bytes in the database', () => {
  it('a file sent through one node is fetched through the other, byte for byte', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    const alice = await account(a, 'alice');
    const bob = await account(b, 'bob');
    const dir = tempDir('cluster-files');
    for (const who of ['alice', 'bob']) mkdirSync(path.join(dir, who));
    try {
      // Several database chunks and a short last one.
      const source = randomFile(dir, 'photo.bin', 3 * 256 * 1024 + 12_345);
      const offered = bob.waitFor((e) => e.ev === 'file');
      const sent = await transfersFor(alice, dir).send('bob', source.file);
      expect((await offered).ev).toBe('file');

      const got = await transfersFor(bob, path.join(dir, 'bob')).get('alice', sent.file);
      expect(got.sha256).toBe(source.sha256);
      expect(readFileSync(got.path).equals(readFileSync(source.file))).toBe(true);

      // A shared file too: uploaded through B, listed and fetched through A.
      const shared = randomFile(dir, 'notes.txt', 70_000);
      const up = await transfersFor(bob, dir).upload(shared.file);
      const fetched = await transfersFor(alice, path.join(dir, 'alice')).download(up.file);
      expect(fetched.sha256).toBe(shared.sha256);

      // Nothing went to either node's files folder: the bytes are in the database.
      expect(storedBlobs(a.dataDir)).toEqual([]);
      expect(storedBlobs(b.dataDir)).toEqual([]);
      const [row] = await a.store.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM blobs`;
      expect(row!.n).toBe(1); // the sent file went once fetched; the shared one stays
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("restarting node A clears A's leftover uploads and leaves B's upload in progress", async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    const alice = await account(a, 'alice');
    const bob = await account(b, 'bob');

    // Bob is mid-upload through B; Alice mid-upload through A.
    const bobContent = randomBytes(5 * 48 * 1024 + 999);
    const bobUpload = await partialUpload(bob, bobContent, 2);
    await partialUpload(alice, randomBytes(4 * 48 * 1024), 1);
    const before = await fileRows(b.store);
    expect(before.map((r) => [r.state, r.node])).toEqual([
      ['uploading', 'node-b'],
      ['uploading', 'node-a'],
    ]);
    const [bobRow, aliceRow] = before;
    expect(await blobNames(b.store)).toEqual(
      new Set([bobRow!.storage_name, aliceRow!.storage_name]),
    );

    // A goes away as a crash would leave it: its upload's record and bytes stay behind.
    // (A clean stop drops its own uploads; pulling the record back is what a crash leaves.)
    alice.destroy();
    await stopNode(a);
    const crashLeft = await b.store.files.create({
      storageName: b.store.blobs.newName(),
      name: 'crash.bin',
      size: 10,
      sha256: 'ab'.repeat(32),
      sender: 'alice',
      senderParty: { kind: 'account', accountId: (await b.store.accounts.findByKey('alice'))!.id },
      senderAddress: null,
      recipient: null,
      createdAt: Date.now(),
      node: 'node-a',
      recipientNode: null,
    });
    const crashWriter = await b.store.blobs.create(crashLeft.storageName);
    await crashWriter.write(randomBytes(5));

    const restarted = await startNode('node-a');

    const after = await fileRows(b.store);
    expect(after.map((r) => r.id)).toEqual([bobRow!.id]);
    expect(await blobNames(b.store)).toEqual(new Set([bobRow!.storage_name]));

    // Bob's upload goes on through B as if nothing happened, and A serves the result.
    const done = await bobUpload.finish();
    expect(done.sha256).toBe(createHash('sha256').update(bobContent).digest('hex'));
    const aliceAgain = await login(restarted, 'alice');
    const dir = tempDir('cluster-files');
    try {
      const fetched = await transfersFor(aliceAgain, dir).download(done.file);
      expect(readFileSync(fetched.path).equals(bobContent)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
