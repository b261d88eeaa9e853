import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loginAdmin } from './admin/helpers.js';
import { startTestNodes, type TestNodes } from './helpers/nodes.js';
import { startTestServer, type TestServer } from './helpers/server.js';

function jsonLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

let server: TestServer | undefined;
let cluster: TestNodes | undefined;
afterEach(async () => {
  await server?.dispose();
  server = undefined;
  await cluster?.dispose();
  cluster = undefined;
});

describe('the node id in the logs', () => {
  it('leads every line of server.log and audit.log (--node-id)', async () => {
    server = await startTestServer({ env: { CONFAB_NODE_ID: 'n-logs' } });
    const admin = await loginAdmin(server);
    const bob = await server.connect('bob');
    await bob.request('register', { password: 'bobs-secret-passphrase-1' });
    await admin.request('warn', { nick: 'bob', reason: 'a test' });
    await admin.request('kick', { nick: 'bob', reason: 'enough' });
    await server.stop();

    const logs = path.join(server.dataDir, 'logs');
    const serverLines = jsonLines(path.join(logs, 'server.log'));
    const auditLines = jsonLines(path.join(logs, 'audit.log'));
    expect(serverLines.some((line) => line.event === 'login')).toBe(true);
    expect(auditLines.map((line) => line.action)).toEqual(
      expect.arrayContaining(['register', 'warn', 'kick']),
    );
    for (const line of [...serverLines, ...auditLines]) expect(line.node).toBe('n-logs');
    // Right after level and time, where a reader of mixed logs looks first.
    expect(Object.keys(serverLines[0]!).slice(0, 3)).toEqual(['level', 'time', 'node']);
  });

  it('names each node of several in one process in its own lines', async () => {
    cluster = await startTestNodes(2);
    const alice = await cluster.connect(0, 'alice');
    const bob = await cluster.connect(1, 'bob');
    await alice.request('say', { text: 'hi' });
    await bob.request('quit');
    for (const node of cluster.nodes) await node.stop(0);
    for (const [i, node] of cluster.nodes.entries()) {
      const lines = jsonLines(path.join(node.logDir, 'server.log'));
      expect(lines.some((line) => line.event === 'login')).toBe(true);
      for (const line of lines) expect(line.node).toBe(`node-${i}`);
    }
  });
});
