import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/client.js';
import { DATABASE_FILE } from '../src/store/sqlite/database.js';
import { makeDataDir } from './helpers/server.js';

/** The built server (npm test builds first); a real process, so SIGKILL is a real crash. */
const MAIN = path.resolve('dist/src/cli/main.js');
const CLIENTS = 30;
const ROUNDS = 3;

interface Acked {
  readonly mid: number;
  readonly text: string;
  readonly sender: string;
  readonly to: string | null;
}

const children = new Set<ChildProcess>();
const dataDir = makeDataDir();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data',
      dataDir,
      ...['maxConnectionsPerIp=1000', 'connectionsPerMinutePerIp=100000'].flatMap((s) => [
        '--set',
        s,
      ]),
      ...['flood.burst=100000', 'flood.perSecond=100000', 'shutdown.noticeSeconds=0'].flatMap(
        (s) => ['--set', s],
      ),
    ],
    {
      env: {
        ...process.env,
        CONFAB_ADMIN_PASSWORD: 'crash-test-admin-password-1',
        CONFAB_WEB_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /127\.0\.0\.1:(\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({ child, port: Number(match[1]) });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${output}`));
    });
  });
}

/** Dozens of clients sending room and private messages as fast as they are acknowledged. */
async function load(port: number, round: number, acked: Acked[]): Promise<() => Promise<void>> {
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const client = await ChatClient.connect({ host: '127.0.0.1', port });
      await client.login(`r${round}c${i}`);
      return client;
    }),
  );
  let running = true;
  const loops = clients.map(async (client, i) => {
    const peer = `r${round}c${(i + 1) % CLIENTS}`;
    for (let seq = 0; running; seq++) {
      const text = `r${round} c${i} #${seq}`;
      const priv = seq % 3 === 2;
      try {
        const ack = priv
          ? await client.request<{ mid: number }>('msg', { to: [peer], text })
          : await client.request<{ mid: number }>('say', { text });
        acked.push({ mid: ack.mid, text, sender: client.nick!, to: priv ? peer : null });
      } catch {
        return; // the server died: this request was never acknowledged
      }
    }
  });
  return async () => {
    running = false;
    for (const client of clients) client.destroy();
    await Promise.all(loops);
  };
}

function verify(acked: readonly Acked[]): void {
  const db = new Database(path.join(dataDir, DATABASE_FILE));
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const byId = db.prepare<[number], { text: string; sender: string; room: string | null }>(
      'SELECT text, sender, room FROM messages WHERE id = ?',
    );
    const copies = db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM messages WHERE text = ?',
    );
    const recipients = db.prepare<[number], { recipient: string }>(
      'SELECT recipient FROM message_recipients WHERE message_id = ?',
    );
    const missing: Acked[] = [];
    for (const message of acked) {
      const row = byId.get(message.mid);
      if (!row || row.text !== message.text || row.sender !== message.sender) {
        missing.push(message);
        continue;
      }
      expect(copies.get(message.text)!.n).toBe(1);
      if (message.to === null) expect(row.room).toBe('lobby');
      else expect(recipients.all(message.mid).map((r) => r.recipient)).toEqual([message.to]);
    }
    expect(missing).toEqual([]);
  } finally {
    db.close();
  }
}

describe('durability across crashes', () => {
  it(`keeps every acknowledged message, exactly once, through ${ROUNDS} SIGKILLs`, async () => {
    expect(existsSync(MAIN), `${MAIN} is missing: run npm run build (npm test does)`).toBe(true);
    const acked: Acked[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { child, port } = await startServer();
      verify(acked);
      const before = acked.length;
      const stop = await load(port, round, acked);
      const killAfterMs = 200 + Math.floor(Math.random() * 800);
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      await stop();
      expect(
        acked.length,
        `round ${round} acknowledged nothing in ${killAfterMs} ms`,
      ).toBeGreaterThan(before);
    }
    // The last restart: everything acknowledged in every round is there, and it still works.
    const { child, port } = await startServer();
    verify(acked);
    const client = await ChatClient.connect({ host: '127.0.0.1', port });
    await client.login('after');
    const ack = await client.request<{ mid: number }>('say', { text: 'after the crashes' });
    expect(ack.mid).toBeGreaterThan(Math.max(...acked.map((m) => m.mid)));
    client.destroy();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
