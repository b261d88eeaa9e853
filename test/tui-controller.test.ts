import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/client.js';
import { SettingsStore } from '../src/client/settings.js';
import { reconnectDelay, TuiController } from '../src/client/tui/controller.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';

// The full-screen client's session logic against a real server, without a terminal:
// prompts are answered the way the screen would answer them.

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const noticeTexts = (controller: TuiController) =>
  controller.state.windows.flatMap((window) => window.lines).map((line) => line.text);

describe('full-screen client session', () => {
  const cleanups: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  async function setUp(options: { nick?: string; set?: Record<string, number> } = {}) {
    const server: TestServer = await startTestServer(options.set ? { set: options.set } : {});
    const configDir = mkdtempSync(path.join(tmpdir(), 'confab-tui-'));
    const controller = new TuiController({
      target: { host: '127.0.0.1', port: server.port },
      defaultPort: 7777,
      nick: options.nick,
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
    return { server, controller, configDir };
  }

  it('asks for the password of an account, again after a wrong one, and remembers the nickname', async () => {
    const { controller, configDir } = await setUp({ nick: 'admin' });
    await until('the password prompt', () => controller.state.prompt?.mode === 'secret');
    expect(controller.state.prompt?.label).toBe('Password for admin');
    controller.answer('not-the-password');
    await until('a second password prompt', () =>
      noticeTexts(controller).some((text) => text.includes('login_failed')),
    );
    await until('the password prompt again', () => controller.state.prompt?.mode === 'secret');
    controller.answer(TEST_ADMIN_PASSWORD);
    await until(
      'logged in',
      () => controller.state.connection.kind === 'connected' && controller.state.nick === 'admin',
    );
    expect(controller.state.role).toBe('admin');
    const settings = JSON.parse(readFileSync(path.join(configDir, 'settings.json'), 'utf8'));
    expect(Object.values(settings.servers)).toEqual([expect.objectContaining({ nick: 'admin' })]);
    expect(JSON.stringify(settings)).not.toContain(TEST_ADMIN_PASSWORD);
  });

  it('completes every room of the server after #, joined or not, with Tab', async () => {
    const { server, controller } = await setUp({ nick: 'zed' });
    await until('logged in', () => controller.state.nick === 'zed');
    const other = await server.connect('amy');
    await other.request('create', { room: 'design' });
    await other.request('create', { room: 'devops' });
    // Rooms are asked for at most every few seconds: a Tab after that sees new ones.
    await until(
      'the server rooms in the completion',
      () => {
        const rooms = controller.completion().rooms;
        return rooms.includes('design') && rooms.includes('devops');
      },
      8000,
    );
    expect(controller.state.windows.map((window) => window.name)).toEqual(['lobby']);
  });

  it('runs a command from the numbered menu, asking for each argument', async () => {
    const { server, controller } = await setUp({ nick: 'alice' });
    const bob: ChatClient = await server.connect('bob');
    await until('logged in', () => controller.state.nick === 'alice');
    controller.submit('/menu');
    await until(
      'the number prompt',
      () => controller.state.prompt?.label.startsWith('Command number') === true,
    );
    const menu = noticeTexts(controller).find((text) => /\/msg TO/.test(text))!;
    controller.answer(/^\s*(\d+)\./.exec(menu)![1]!);
    await until(
      'the first argument',
      () => controller.state.prompt?.label.startsWith('to') === true,
    );
    const heard = bob.waitFor((event) => event.ev === 'private' && event.text === 'from the menu');
    controller.answer('bob');
    await until(
      'the second argument',
      () => controller.state.prompt?.label.startsWith('text') === true,
    );
    controller.answer('from the menu');
    await heard;
    await until('the conversation window', () => controller.state.findWindow('@bob') !== undefined);
    const window = controller.state.findWindow('@bob')!;
    expect(window.lines.map((line) => line.text)).toEqual(['from the menu']);
    await until('the acknowledgement', () => {
      const line = window.lines.at(-1)!;
      return line.kind === 'chat' && line.delivery === 'sent';
    });
  });

  it('asks twice, masked, for a new password on /register', async () => {
    const { controller } = await setUp({ nick: 'carol' });
    await until('logged in', () => controller.state.nick === 'carol');
    controller.submit('/register');
    await until('the first prompt', () => controller.state.prompt?.mode === 'secret');
    controller.answer('a-good-password-1');
    await until(
      'the second prompt',
      () => controller.state.prompt?.label.endsWith('again') === true,
    );
    controller.answer('a-good-password-1');
    await until('registered', () =>
      noticeTexts(controller).some((text) => text.startsWith('Registered')),
    );
    expect(controller.state.role).toBe('user');
    expect(noticeTexts(controller).join('\n')).not.toContain('a-good-password-1');
  });

  it('asks the nickname before connecting, so the registration deadline never runs out on a person', async () => {
    const { controller } = await setUp({ set: { registrationTimeoutSeconds: 1 } });
    await until('the nickname prompt', () => controller.state.prompt?.label === 'Nickname');
    // The person takes longer than the server's deadline to type.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    controller.answer('dave');
    await until(
      'logged in',
      () => controller.state.nick === 'dave' && controller.state.connection.kind === 'connected',
    );
    expect(noticeTexts(controller).join('\n')).not.toContain('registration_timeout');
    expect(noticeTexts(controller).join('\n')).not.toContain('Connection lost');
  });

  it('keeps a password prompt open past the registration deadline and logs in with the answer', async () => {
    const { controller } = await setUp({ nick: 'admin', set: { registrationTimeoutSeconds: 1 } });
    await until('the password prompt', () => controller.state.prompt?.mode === 'secret');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(controller.state.prompt?.label).toBe('Password for admin');
    controller.answer(TEST_ADMIN_PASSWORD);
    await until(
      'logged in',
      () => controller.state.nick === 'admin' && controller.state.connection.kind === 'connected',
    );
    // The password prompt is the expected path: no red error on the way.
    const errors = controller.state.windows
      .flatMap((window) => window.lines)
      .filter((line) => line.kind === 'notice' && line.level === 'error');
    expect(errors).toEqual([]);
  });

  it('asks whether to take over an account online elsewhere, never for a new nickname', async () => {
    const { server, controller } = await setUp({ nick: 'admin' });
    const other = await server.connect('admin', TEST_ADMIN_PASSWORD);
    const replaced = other.closed();
    await until('the password prompt', () => controller.state.prompt?.mode === 'secret');
    controller.answer(TEST_ADMIN_PASSWORD);
    await until('the takeover question', () => controller.state.prompt?.mode === 'confirm');
    expect(controller.state.prompt?.question).toBe(
      'admin is logged in elsewhere: take that session over? It ends there.',
    );
    controller.answer('yes');
    await until(
      'logged in',
      () => controller.state.nick === 'admin' && controller.state.connection.kind === 'connected',
    );
    expect((await replaced).code).toBe('replaced');
  });

  it('offers --nick again after a refusal, not the nickname used last time', async () => {
    const { server, controller, configDir } = await setUp({ nick: 'zed' });
    await until('logged in', () => controller.state.nick === 'zed');
    controller.exit();
    await controller.finished;
    // Next run: --nick bob, but bob is taken; the prompt offers bob (what was asked for).
    await server.connect('bob');
    const second = new TuiController({
      target: { host: '127.0.0.1', port: server.port },
      defaultPort: 7777,
      nick: 'bob',
      password: undefined,
      connectOptions: (target) => ({ host: target.host, port: target.port }),
      settings: new SettingsStore(configDir),
      backoff: { firstMs: 20, maxMs: 100 },
    });
    cleanups.push(async () => {
      second.exit();
      await second.finished;
    });
    void second.start();
    await until('the nickname prompt', () => second.state.prompt?.label === 'Nickname');
    expect(second.state.prompt?.initial).toBe('bob');
    expect(noticeTexts(second).join('\n')).toContain('nick_taken');
  });

  it('reconnects with the password set by /passwd, not the one it started with', async () => {
    const { server, controller } = await setUp({ nick: 'admin' });
    await until('the password prompt', () => controller.state.prompt?.mode === 'secret');
    controller.answer(TEST_ADMIN_PASSWORD);
    await until('logged in', () => controller.state.nick === 'admin');
    controller.submit('/passwd');
    await until('current password', () => controller.state.prompt?.label === 'Current password');
    controller.answer(TEST_ADMIN_PASSWORD);
    await until('new password', () => controller.state.prompt?.label === 'New password');
    controller.answer('a-brand-new-password-9');
    await until('again', () => controller.state.prompt?.label === 'New password again');
    controller.answer('a-brand-new-password-9');
    await until('changed', () => noticeTexts(controller).includes('Password changed'));
    // A server restart: the session cannot be resumed, so a fresh login with a password.
    await server.stop();
    const restarted = await startTestServer({ dataDir: server.dataDir, port: server.port });
    cleanups.push(() => restarted.stop());
    await until(
      'logged in again',
      () =>
        noticeTexts(controller).filter((text) => text.startsWith('You are admin')).length === 2 &&
        controller.state.connection.kind === 'connected',
      8000,
    );
    expect(noticeTexts(controller).join('\n')).not.toContain('login_failed');
    expect(controller.state.prompt).toBeUndefined();
  });
});

describe('reconnection delays', () => {
  it('stay within a few seconds for the first minute after a loss, then back off', () => {
    const backoff = { firstMs: 1000, maxMs: 30_000 };
    const early = [0, 1, 2, 3, 5, 8].map((failures) => reconnectDelay(failures, 20_000, backoff));
    expect(Math.max(...early)).toBeLessThanOrEqual(3000);
    expect(reconnectDelay(0, 0, backoff)).toBe(1000);
    expect(reconnectDelay(8, 61_000, backoff)).toBe(30_000);
    expect(reconnectDelay(3, 61_000, backoff)).toBe(8000);
  });
});
