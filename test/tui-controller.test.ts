import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/client.js';
import { SettingsStore } from '../src/client/settings.js';
import { TuiController } from '../src/client/tui/controller.js';
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

  it('never waits on a dead prompt: a dropped connection cancels it and the client asks anew', async () => {
    const { controller } = await setUp({ set: { registrationTimeoutSeconds: 1 } });
    await until('the nickname prompt', () => controller.state.prompt?.label === 'Nickname');
    // Nobody answers: the server gives up on the login, the client reconnects and asks again.
    await until(
      'the lost connection',
      () => noticeTexts(controller).some((text) => text.includes('registration_timeout')),
      5000,
    );
    await until('a fresh nickname prompt', () => controller.state.prompt?.label === 'Nickname');
    controller.answer('dave');
    await until(
      'logged in',
      () => controller.state.nick === 'dave' && controller.state.connection.kind === 'connected',
    );
  });
});
