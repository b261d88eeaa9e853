import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { makeDataDir } from '../helpers/server.js';
import {
  login,
  openPage as openWebPage,
  say,
  sees,
  startWebServer,
  tearDown,
} from '../helpers/web-page.js';

/**
 * The browser client against a real `confab serve` (a child process, so it can be killed
 * and started again), with Debian's Chromium and a line-mode terminal user beside it.
 * The steps build on each other, in order.
 */
const ADMIN_PASSWORD = 'browser-admin-password-1';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let dataDir: string;
let work: string;
let chatPort: number;
let webPort: number;
let server: CliRun;
let browser: Browser;
let url: string;
const contexts: BrowserContext[] = [];
const lineClients: CliRun[] = [];
const dialogs: string[] = [];

const startServer = () =>
  startWebServer({ chatPort, webPort, dataDir, adminPassword: ADMIN_PASSWORD });
const openPage = () => openWebPage(browser, url, contexts, dialogs);

function lineClient(nick: string, downloads?: string): CliRun {
  const run = runCli([
    'connect',
    `127.0.0.1:${chatPort}`,
    '--nick',
    nick,
    ...(downloads ? ['--downloads', downloads] : []),
  ]);
  lineClients.push(run);
  return run;
}

/** What the page's own scripts see, for code run in the page (no DOM types here). */
interface PageGlobals {
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: unknown[], name: string) => unknown;
  document: unknown;
  axe: {
    run(root: unknown): Promise<{ violations: { id: string; impact: string; help: string }[] }>;
  };
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

let alice: Page;
let bob: Page;
let carol: CliRun;

beforeAll(async () => {
  dataDir = makeDataDir();
  work = mkdtempSync(path.join(tmpdir(), 'confab-browser-'));
  mkdirSync(path.join(work, 'carol-downloads'));
  mkdirSync(ARTIFACTS, { recursive: true });
  [chatPort, webPort] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${webPort}/`;
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
}, 60_000);

afterAll(() =>
  tearDown({ contexts, browser, server, others: lineClients, folders: [dataDir, work] }),
);

describe('the web client in Chromium', () => {
  it('prints its URL at start and shows the login form quickly', async () => {
    expect(server.stdout()).toContain(`Browser: open http://127.0.0.1:${webPort}`);
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const started = Date.now();
    await page.goto(url);
    await page.getByLabel('Nickname', { exact: true }).waitFor();
    // A loose bound against regressions; `npm run bench -- ws` measures it properly.
    expect(Date.now() - started).toBeLessThan(5000);
    await context.close();
  });

  it('lets two browser users and a line-mode user chat in the lobby and a room', async () => {
    [alice, bob] = await Promise.all([openPage(), openPage()]);
    await login(alice, 'alice');
    await login(bob, 'bob');
    carol = lineClient('carol', path.join(work, 'carol-downloads'));
    await carol.waitForOutput('You are carol');
    await sees(alice, 'carol is online');

    await say(alice, 'hello from alice');
    await sees(bob, 'hello from alice');
    await carol.waitForOutput('<alice> hello from alice');
    carol.child.stdin.write('hi browsers\n');
    await sees(alice, 'hi browsers');
    await sees(bob, 'hi browsers');

    await alice.getByLabel('Join or create a room').fill('study');
    await alice.getByLabel('Join or create a room').press('Enter');
    await alice.getByRole('heading', { name: '#study', exact: true }).waitFor();
    await say(bob, '/join study');
    await bob.getByRole('heading', { name: '#study', exact: true }).waitFor();
    carol.child.stdin.write('/join study\n');
    await sees(alice, 'carol joined');
    await say(bob, 'room talk from bob');
    await sees(alice, 'room talk from bob');
    await carol.waitForOutput('[#study] <bob> room talk from bob');
    carol.child.stdin.write('/switch study\n');
  }, 60_000);

  it('carries a private message, with an unread count on the window and in the title', async () => {
    await bob
      .locator('.members')
      .getByRole('button', { name: 'alice', exact: false })
      .first()
      .click();
    await bob
      .getByRole('group', { name: 'Actions for alice' })
      .getByRole('button', { name: 'Message' })
      .click();
    await say(bob, 'psst alice');
    const window = alice.getByRole('button', { name: /@bob/ });
    await window.locator('.badge', { hasText: '1' }).waitFor();
    await expect.poll(() => alice.title()).toBe('(1) Confab');
    await window.click();
    await sees(alice, 'psst alice');
    await expect.poll(() => alice.title()).toBe('Confab');
  }, 30_000);

  it('sends a dropped file to the line user with the right SHA-256, and takes one back', async () => {
    const bytes = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 7919) % 251));
    // The bytes go over HTTP (PUT and GET on short-lived /file links), not as frames.
    const fileRequests: string[] = [];
    alice.on('request', (request) => {
      if (new URL(request.url()).pathname === '/file') fileRequests.push(request.method());
    });
    await alice.getByRole('button', { name: /^Lobby/ }).click();
    carol.child.stdin.write('/msg alice file coming your way\n');
    const withCarol = alice.getByRole('button', { name: /@carol/ });
    await withCarol.click();
    const transfer = await alice.evaluateHandle(
      (data: number[]) => {
        const page = globalThis as unknown as PageGlobals;
        const dt = new page.DataTransfer();
        dt.items.add(new page.File([new Uint8Array(data)], 'notes.bin'));
        return dt;
      },
      [...bytes],
    );
    await alice.dispatchEvent('.chat-layout', 'drop', { dataTransfer: transfer });
    await sees(alice, 'Sent notes.bin');
    await carol.waitForOutput(/alice sent you notes\.bin \([^)]*, (f\d+)\)/);
    const file = /alice sent you notes\.bin \([^)]*, (f\d+)\)/.exec(carol.stdout())![1]!;
    carol.child.stdin.write(`/get alice ${file}\n`);
    await carol.waitForOutput('SHA-256 verified');
    const saved = readFileSync(path.join(work, 'carol-downloads', 'notes.bin'));
    expect(sha256(saved)).toBe(sha256(bytes));

    const reply = path.join(work, 'reply.txt');
    writeFileSync(reply, 'the answer is 42\n'.repeat(5000));
    carol.child.stdin.write(`/send alice ${reply}\n`);
    const accept = alice.getByRole('button', { name: 'Accept reply.txt' });
    await accept.waitFor({ timeout: 15_000 });
    const [download] = await Promise.all([alice.waitForEvent('download'), accept.click()]);
    const fetched = readFileSync((await download.path())!);
    expect(sha256(fetched)).toBe(sha256(readFileSync(reply)));
    await sees(alice, 'SHA-256');
    expect(fileRequests).toEqual(['PUT', 'GET']);
    // Fetched and checked: the file left the server, and its sender was told.
    await carol.waitForOutput(/reply\.txt \(f\d+\) was fetched by alice/);
  }, 60_000);

  it('renders a corpus of hostile messages as text: no markup, no script, no dialog', async () => {
    const corpus = [
      '<script>alert("xss")</script>',
      '<img src=x onerror=alert(1)>',
      'javascript:alert(1)',
      '[click](javascript:alert(2)) data:text/html,<b>x</b>',
      'right-to-left \u202Eevil.exe\u202C done',
      'zero\u200Dwidth\u200Bjoiners',
      '👍'.repeat(280),
      'see https://example.com/a?b=<i>c</i>',
    ];
    await alice.getByRole('button', { name: /^Lobby/ }).click();
    for (const text of corpus) carol.child.stdin.write(`/switch lobby\n${text}\n`);
    await sees(alice, 'see https://example.com');
    const shown = await alice.locator('.messages').innerText();
    for (const text of corpus.slice(0, 4)) expect(shown).toContain(text);
    expect(
      await alice.locator('.messages script, .messages img, .messages b, .messages i').count(),
    ).toBe(0);
    const hrefs = await alice.locator('.messages a').evaluateAll((links) =>
      links.map((link) => {
        const element = link as unknown as { getAttribute(name: string): string | null };
        return [element.getAttribute('href'), element.getAttribute('rel')];
      }),
    );
    for (const [href, rel] of hrefs) {
      expect(href).toMatch(/^https?:\/\//);
      expect(rel).toBe('noopener noreferrer');
    }
    expect(dialogs).toEqual([]);
  }, 30_000);

  it('passes an automated accessibility check and keeps screenshots at two sizes', async () => {
    const axeSource = readFileSync(
      fileURLToPath(import.meta.resolve('axe-core/axe.min.js')),
      'utf8',
    );
    await alice.evaluate(axeSource);
    const results = await alice.evaluate(async () => {
      const page = globalThis as unknown as PageGlobals;
      const { violations } = await page.axe.run(page.document);
      return violations.map(({ id, impact, help }) => ({ id, impact, help }));
    });
    expect(results.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await alice.screenshot({ path: path.join(ARTIFACTS, 'web-1440x900.png') });
    await alice.setViewportSize({ width: 390, height: 844 });
    await alice.screenshot({ path: path.join(ARTIFACTS, 'web-390x844.png') });
    await alice.setViewportSize({ width: 1440, height: 900 });
  }, 30_000);

  it('resumes after the server is killed and started again, keeping the screen', async () => {
    server.child.kill('SIGKILL');
    await server.exit();
    await alice.locator('.connection.reconnecting').waitFor();
    server = await startServer();
    await alice.locator('.connection.connected').waitFor({ timeout: 20_000 });
    await bob.locator('.connection.connected').waitFor({ timeout: 20_000 });
    // What was on screen before is still there.
    await alice.getByRole('button', { name: /^Lobby/ }).click();
    await sees(alice, 'hello from alice');
    // Both are back in the room they were in, and talk again.
    await alice.getByRole('button', { name: /^#study/ }).click();
    await bob.getByRole('button', { name: /^#study/ }).click();
    await say(alice, 'back after the restart');
    await sees(bob, 'back after the restart');
  }, 60_000);

  it('lets an admin kick and ban from the page', async () => {
    const admin = await openPage();
    await login(admin, 'admin', ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Admin', exact: true }).waitFor();
    const members = admin.locator('.members');
    await members.getByRole('button', { name: /^bob/ }).click();
    await admin
      .getByRole('group', { name: 'Actions for bob' })
      .getByRole('button', { name: 'Kick' })
      .click();
    await admin.getByRole('textbox', { name: /Reason to kick bob/ }).fill('testing kicks');
    await admin.getByRole('button', { name: 'OK' }).click();
    await bob.getByRole('alert').filter({ hasText: 'testing kicks' }).waitFor();
    await bob.getByLabel('Nickname', { exact: true }).waitFor();

    await members.getByRole('button', { name: /^alice/ }).click();
    await admin
      .getByRole('group', { name: 'Actions for alice' })
      .getByRole('button', { name: 'Ban' })
      .click();
    await admin.getByRole('textbox', { name: /Reason to ban alice/ }).fill('testing bans');
    await admin.getByRole('button', { name: 'OK' }).click();
    await alice.getByRole('alert').filter({ hasText: 'testing bans' }).waitFor();
    await alice.getByLabel('Nickname', { exact: true }).fill('alice');
    await alice.getByRole('button', { name: 'Log in' }).click();
    await alice.getByRole('alert').filter({ hasText: 'banned' }).waitFor();
  }, 60_000);
});
