import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client/client.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { PtyScreen } from './helpers/pty-screen.js';

// The real `confab connect` (built by `npm test`'s pretest) in a real pseudo-terminal,
// against a real `confab serve` process that the test kills and restarts.
const MAIN = path.resolve('dist/src/cli/main.js');
const COLS = 100;
const ROWS = 24;

interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
}

async function startServerProcess(dataDir: string, port: number): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir],
    {
      env: { ...process.env, CONFAB_ADMIN_PASSWORD: 'e2e-admin-password-1', CONFAB_WEB_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve({ child, port: Number(match[1]) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${output}`));
    });
  });
}

function killServer(server: ServerProcess): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve();
    server.child.once('exit', () => resolve());
    server.child.kill('SIGKILL');
  });
}

/** The client's environment: a private config folder, and no CI marker (Ink renders
 * nothing interactive when it believes it runs in CI). */
function clientEnv(configDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONFAB_CONFIG_DIR: configDir,
    TERM: 'xterm-256color',
    CI: '0',
  };
  delete env.CONTINUOUS_INTEGRATION;
  return env;
}

const isMessage = (text: string) => (event: ServerEvent) =>
  (event.ev === 'message' || event.ev === 'private') && event.text === text;

describe('confab connect in a terminal', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('chats, switches windows, keeps half-typed input, survives a server restart and exits cleanly', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'confab-e2e-'));
    const configDir = mkdtempSync(path.join(tmpdir(), 'confab-e2e-config-'));
    cleanups.push(() => {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(configDir, { recursive: true, force: true });
    });
    let server = await startServerProcess(dataDir, 0);
    cleanups.push(() => killServer(server));
    const port = server.port;
    const bob = await ChatClient.connect({ host: '127.0.0.1', port });
    await bob.login('bob');
    cleanups.push(() => bob.destroy());

    // No nickname given: the client asks, and asks again with the server's reason.
    const screen = new PtyScreen(process.execPath, [MAIN, 'connect', '127.0.0.1', String(port)], {
      cols: COLS,
      rows: ROWS,
      env: clientEnv(configDir),
    });
    cleanups.push(() => screen.kill());
    const inputRow = () => screen.rows()[ROWS - 1] ?? '';
    const statusRow = () => screen.rows()[ROWS - 2] ?? '';

    await screen.waitFor('the nickname prompt', () => inputRow().startsWith('Nickname:'));
    await screen.type('bob\r');
    await screen.waitFor('the reason the nickname was refused', (text) =>
      text.includes('nick_taken'),
    );
    await screen.waitFor('the nickname prompt again', () => inputRow().startsWith('Nickname:'));
    await screen.type('alice\r');
    await screen.waitFor(
      'the status bar of a logged-in alice',
      () => statusRow().includes('[alice (guest)]') && statusRow().includes('[connected]'),
    );

    // A message goes out, shows at once, and is marked sent when acknowledged.
    const heard = bob.waitFor(isMessage('hello from alice, 李雷 café'));
    await screen.type('hello from alice, 李雷 café\r');
    await heard;
    await screen.waitFor('own message marked sent', (text) =>
      text.includes('<alice> hello from alice, 李雷 café ✓'),
    );

    // Creating a room opens its window; others' messages there show in it.
    await screen.type('/create dev\r');
    await screen.waitFor('the #dev window', () => statusRow().includes('[#dev]'));
    await bob.request('join', { room: 'dev' });
    await screen.waitFor('bob joining', (text) => text.includes('bob joined #dev'));
    await bob.request('say', { room: 'dev', text: 'hello dev' });
    await screen.waitFor('bob in #dev', (text) => text.includes('<bob> hello dev'));
    // Alt+1: back to the lobby.
    screen.write('\x1b1');
    await screen.waitFor('the lobby window', () => statusRow().includes('[#lobby]'));

    // A private message opens a window with an unread count, without switching to it.
    await bob.request('msg', { to: ['alice'], text: 'psst, alice' });
    await screen.waitFor('the new private window', (text) => text.includes('3:@bob(1)'));

    // Half-typed input survives messages arriving, here and in other windows.
    await screen.type('half typed');
    await bob.request('say', { room: 'lobby', text: 'news from bob' });
    await screen.waitFor('bob’s message in the pane', (text) =>
      text.includes('<bob> news from bob'),
    );
    await bob.request('say', { room: 'dev', text: 'more for dev' });
    await screen.waitFor('the unread count of #dev', (text) => text.includes('2:#dev(1)'));
    expect(inputRow()).toContain('[#lobby] half typed');

    // Ctrl+P goes round to the private window; the draft goes along and is sent there.
    screen.write('\x10');
    await screen.waitFor(
      'the @bob window',
      (text) => statusRow().includes('[@bob]') && text.includes('psst, alice'),
    );
    expect(inputRow()).toContain('half typed');
    const reply = bob.waitFor(isMessage('half typed, done'));
    await screen.type(', done\r');
    expect((await reply).ev).toBe('private');
    // /switch goes to a room by name.
    await screen.type('/switch dev\r');
    await screen.waitFor(
      '#dev again',
      (text) => statusRow().includes('[#dev]') && text.includes('more for dev'),
    );

    // The server dies: the client says so at once and keeps the screen.
    await killServer(server);
    bob.destroy();
    await screen.waitFor('the lost-connection notice', (text) => text.includes('Connection lost'));
    expect(screen.text()).toContain('more for dev');

    // Back on the same port and data: the client comes back by itself.
    server = await startServerProcess(dataDir, port);
    // Resumed when the server supports it; otherwise logged in again as alice.
    await screen.waitFor(
      'the session back',
      (text) =>
        statusRow().includes('[connected]') &&
        /Connection lost[^]*(Session resumed|You are alice)/.test(text),
      20_000,
    );
    const carol = await ChatClient.connect({ host: '127.0.0.1', port });
    cleanups.push(() => carol.destroy());
    await carol.login('carol');
    screen.write('\x1b1');
    await screen.waitFor('the lobby window', () => statusRow().includes('[#lobby]'));
    await carol.request('say', { room: 'lobby', text: 'after the restart' });
    await screen.waitFor('a message after the restart', (text) =>
      text.includes('<carol> after the restart'),
    );

    // A resize redraws the whole screen at the new size.
    screen.resize(80, 16);
    await screen.waitFor(
      'the redraw at 80x16',
      (_text, rows) =>
        (rows[14] ?? '').includes('[alice (guest)]') && (rows[15] ?? '').startsWith('[#lobby]'),
    );

    // Ctrl+C leaves cleanly: others see a quit, the terminal gets its screen back.
    const left = carol.waitFor((event) => event.ev === 'offline' && event.nick === 'alice');
    screen.write('\x03');
    const exit = await screen.exited;
    expect(exit.exitCode).toBe(0);
    const offline = await left;
    expect(offline.ev === 'offline' && offline.reason).toBe('quit');
    expect(screen.output).toContain('\x1b[?1049l');
  }, 60_000);
});
