import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsStore } from '../src/client/settings.js';
import { TuiController } from '../src/client/tui/controller.js';
import { startTestServer } from './helpers/server.js';

// The full-screen client follows rooms from the server's events, against a real server.

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(nick: string) {
  const server = await startTestServer();
  const configDir = mkdtempSync(path.join(tmpdir(), 'confab-tui-rooms-'));
  const controller = new TuiController({
    target: { host: '127.0.0.1', port: server.port },
    defaultPort: 7777,
    nick,
    password: undefined,
    connectOptions: (target) => ({ host: target.host, port: target.port }),
    settings: new SettingsStore(configDir),
    backoff: { firstMs: 20, maxMs: 100 },
  });
  cleanups.push(async () => {
    controller.exit();
    await controller.finished;
    await server.dispose();
    rmSync(configDir, { recursive: true, force: true });
  });
  void controller.start();
  await until('logged in', () => controller.state.nick === nick);
  return { server, controller };
}

const windowIds = (controller: TuiController) => controller.state.windows.map((w) => w.id);

describe('full-screen client in rooms', () => {
  it('opens a window per room, sends plain text there, and `exit` closes a room you own', async () => {
    const { server, controller } = await setUp('alice');
    const bob = await server.connect('bob');
    controller.submit('/create dev');
    await until('the room window', () => controller.state.currentWindow.id === '#dev');

    await bob.request('join', { room: 'dev' });
    const heard = bob.waitFor((e) => e.ev === 'message' && e.room === 'dev');
    controller.submit('hello room');
    expect(await heard).toMatchObject({ from: 'alice', text: 'hello room' });
    await bob.request('say', { room: 'dev', text: 'hi alice' });
    await until('bob in the room window', () =>
      controller.state.currentWindow.lines.some((line) => line.text.includes('hi alice')),
    );

    const closed = bob.waitFor((e) => e.ev === 'room_closed');
    controller.submit('exit');
    expect(await closed).toMatchObject({ room: 'dev', by: 'alice' });
    await until('the window closed', () => !windowIds(controller).includes('#dev'));
    expect(controller.state.currentWindow.id).toBe('#lobby');
  });

  it("closes a room's window when its owner closes it", async () => {
    const { server, controller } = await setUp('carol');
    const dave = await server.connect('dave');
    await dave.request('create', { room: 'daves' });
    controller.submit('/join daves');
    await until('the room window', () => windowIds(controller).includes('#daves'));
    await dave.request('close', { room: 'daves' });
    await until('the window closed', () => !windowIds(controller).includes('#daves'));
    const lobby = controller.state.windows.find((w) => w.id === '#lobby')!;
    expect(lobby.lines.some((line) => line.text.includes('closed by dave'))).toBe(true);
  });
});
