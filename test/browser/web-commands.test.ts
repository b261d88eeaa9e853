import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../../src/client/client.js';
import { launchBrowser } from '../helpers/browser.js';
import type { CliRun } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { makeDataDir } from '../helpers/server.js';
import {
  login,
  messageBox,
  openPage,
  say,
  sees,
  startWebServer,
  submitLogin,
  tearDown,
} from '../helpers/web-page.js';

/**
 * The message box and the account dialogs of the browser client against a real
 * `confab serve` and Debian's Chromium: Tab completion, `/menu`, missed messages marked
 * once (and never shown twice after a crash), the takeover question and the typed
 * confirmation of `/deregister`. The steps build on each other, in order.
 */
const ADMIN_PASSWORD = 'browser-admin-password-2';
const DAVE_PASSWORD = 'dave-has-a-long-password-7';

let dataDir: string;
let chatPort: number;
let webPort: number;
let server: CliRun;
let browser: Browser;
let url: string;
const contexts: BrowserContext[] = [];
const dialogs: string[] = [];
let dave: Page;
let erin: Page;

// A quick writer fills a room's history for the scroll-back step.
const serve = () =>
  startWebServer({
    chatPort,
    webPort,
    dataDir,
    adminPassword: ADMIN_PASSWORD,
    set: ['flood.burst=400', 'flood.perSecond=400'],
  });
const lines = (page: Page, text: string) => page.locator('.messages li', { hasText: text });
/** The input of the dialog asking `label` (a password input has no textbox role). */
const answerBox = (page: Page, label: string) =>
  page.getByRole('dialog', { name: label }).locator('input').first();

beforeAll(async () => {
  dataDir = makeDataDir();
  [chatPort, webPort] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${webPort}/`;
  [server, browser] = await Promise.all([serve(), launchBrowser()]);
  [dave, erin] = await Promise.all([
    openPage(browser, url, contexts, dialogs),
    openPage(browser, url, contexts, dialogs),
  ]);
  await login(dave, 'dave');
  await login(erin, 'erin');
}, 60_000);

afterAll(() => tearDown({ contexts, browser, server, folders: [dataDir] }));

describe('the web client message box and account dialogs', () => {
  it('completes commands, rooms after # and nicknames with Tab; with nothing to complete, Tab moves on', async () => {
    await say(erin, '/create studygroup');
    await erin.getByRole('heading', { name: '#studygroup', exact: true }).waitFor();
    const box = messageBox(dave);
    await box.fill('/jo');
    await box.press('Tab');
    await expect.poll(() => box.inputValue()).toBe('/join ');
    await box.pressSequentially('#stu');
    // The page learns the server's rooms at login and at a Tab at most every 3 s, so a room
    // created just after login completes on a later Tab, as a person would press it again.
    await expect
      .poll(
        async () => {
          await box.fill('/join #stu');
          await box.press('Tab');
          return box.inputValue();
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBe('/join #studygroup ');
    await box.press('Enter');
    await dave.getByRole('heading', { name: '#studygroup', exact: true }).waitFor();

    // At the start of a line a nickname is an address ("erin: "), as in the terminal.
    await box.fill('er');
    await box.press('Tab');
    await expect.poll(() => box.inputValue()).toBe('erin: ');
    // Several candidates: Tab again cycles through them, in order.
    await box.fill('/whoe');
    await box.press('Tab');
    await expect.poll(() => box.inputValue()).toBe('/whoelse ');
    await box.fill('/who');
    await box.press('Tab');
    await expect.poll(() => box.inputValue()).toBe('/who ');
    await box.press('Tab');
    await expect.poll(() => box.inputValue()).toBe('/whoelse ');
    // Completion in the middle keeps what follows the cursor.
    await box.fill('hi er and all');
    await box.evaluate((element) => {
      const input = element as unknown as { setSelectionRange(a: number, b: number): void };
      input.setSelectionRange(5, 5);
    });
    await box.press('Tab');
    await expect.poll(() => box.inputValue()).toBe('hi erin  and all');

    await box.fill('');
    await box.press('Tab');
    const focused = await dave.evaluate(() => {
      const doc = (globalThis as unknown as { document: { activeElement: { id: string } | null } })
        .document;
      return doc.activeElement?.id ?? '';
    });
    expect(focused).not.toBe('message');
  }, 60_000);

  it('offers the server catalogue in /menu and asks for what the picked command needs', async () => {
    await say(dave, '/menu');
    const menu = dave.getByRole('dialog');
    const choices = menu.getByRole('list', { name: 'Commands' });
    await choices.waitFor();
    const offered = await choices.getByRole('button').allInnerTexts();
    expect(offered.some((text) => text.startsWith('/whois'))).toBe(true);
    expect(offered.some((text) => text.startsWith('/register'))).toBe(true);
    // Admin commands are not offered to a guest.
    expect(offered.some((text) => text.startsWith('/kick'))).toBe(false);
    await menu.getByRole('textbox', { name: 'Command' }).fill('whoi');
    await menu.getByRole('textbox', { name: 'Command' }).press('Enter');
    const name = dave.getByRole('textbox', { name: '/whois: name' });
    await name.fill('erin');
    await name.press('Enter');
    await sees(dave, 'erin: guest, online');

    // Registering through the menu: the password is asked twice, masked.
    await say(dave, '/menu');
    await menu.getByRole('textbox', { name: 'Command' }).fill('register');
    await choices.getByRole('button', { name: /^\/register/ }).click();
    const secret = answerBox(dave, 'New password');
    expect(await secret.getAttribute('type')).toBe('password');
    await secret.fill(DAVE_PASSWORD);
    await secret.press('Enter');
    const again = answerBox(dave, 'Type it again');
    expect(await again.getAttribute('type')).toBe('password');
    await again.fill(DAVE_PASSWORD);
    await again.press('Enter');
    await sees(dave, 'Registered: dave');
  }, 60_000);

  it('marks missed messages once with a divider, and shows none twice after a crash', async () => {
    await dave.getByRole('button', { name: /^Lobby/ }).click();
    await say(dave, '/quit');
    await dave.getByLabel('Nickname', { exact: true }).waitFor();
    await erin.getByRole('button', { name: /^Lobby/ }).click();
    await say(erin, 'while dave was away one');
    await say(erin, 'while dave was away two');
    await sees(erin, 'while dave was away two');
    await login(dave, 'dave', DAVE_PASSWORD);
    await dave.getByRole('button', { name: /^Lobby/ }).click();
    await sees(dave, 'while dave was away two');
    await expect
      .poll(() => dave.locator('.messages li.divider', { hasText: 'Missed' }).count())
      .toBe(1);
    const order = await dave.locator('.messages li').allInnerTexts();
    const divider = order.findIndex((text) => text.includes('Missed while you were away'));
    expect(order[divider + 1]).toContain('while dave was away one');
    expect(order[divider + 2]).toContain('while dave was away two');

    // A crash records no logout: the replay after it repeats what dave saw live.
    await say(erin, 'seen live before the crash');
    await sees(dave, 'seen live before the crash');
    server.child.kill('SIGKILL');
    await server.exit();
    await dave.locator('.connection.reconnecting').waitFor();
    server = await serve();
    await dave.locator('.connection.connected').waitFor({ timeout: 30_000 });
    await erin.locator('.connection.connected').waitFor({ timeout: 30_000 });
    // The page joins a guest's rooms again before it says "connected"; the window on
    // screen stays the lobby.
    expect(await erin.getByRole('heading', { level: 1 }).innerText()).toBe('Lobby');
    await say(erin, 'after the restart');
    await sees(dave, 'after the restart', 20_000);
    expect(await lines(dave, 'seen live before the crash').count()).toBe(1);
    expect(await lines(dave, 'while dave was away one').count()).toBe(1);
  }, 90_000);

  it('asks before taking over a session, and tells the replaced page why', async () => {
    const second = await openPage(browser, url, contexts, dialogs);
    await submitLogin(second, 'dave', DAVE_PASSWORD);
    const offer = second.getByRole('alertdialog');
    await offer.getByText('dave is logged in elsewhere').waitFor();
    await offer.getByRole('button', { name: 'Take over' }).click();
    await messageBox(second).waitFor();
    await dave.getByRole('alert').first().waitFor();
    await dave.getByLabel('Nickname', { exact: true }).waitFor();
    dave = second;
  }, 30_000);

  it('deletes an account only after the password and the typed word', async () => {
    await say(dave, '/deregister');
    await answerBox(dave, 'Your password').fill(DAVE_PASSWORD);
    await answerBox(dave, 'Your password').press('Enter');
    const confirm = dave.getByRole('dialog');
    await confirm.getByText('Delete your account').waitFor();
    await confirm.getByText('to confirm').waitFor();
    const ok = confirm.getByRole('button', { name: 'OK' });
    const word = confirm.getByRole('textbox');
    await word.fill('yes');
    expect(await ok.isDisabled()).toBe(true);
    await word.fill('deregiste');
    expect(await ok.isDisabled()).toBe(true);
    await word.fill('deregister');
    await ok.click();
    await sees(dave, 'Account deleted');
    // The account is gone: its name logs in again as a guest, with no password asked.
    await say(dave, '/whois dave');
    await sees(dave, 'dave: guest');
    expect(dialogs).toEqual([]);
  }, 30_000);
  it('gives an admin the tools: announce, lock, config with sources, monitor, shutdown and its cancel, suspend and forgive', async () => {
    const admin = await openPage(browser, url, contexts, dialogs);
    await login(admin, 'admin', ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Admin', exact: true }).click();
    const tools = admin.getByRole('region', { name: 'Admin tools' });
    await erin.getByRole('button', { name: /^Lobby/ }).click();

    await tools.getByRole('button', { name: 'Announce' }).click();
    await answerBox(admin, 'Announcement to everyone').fill('tea at four');
    await answerBox(admin, 'Announcement to everyone').press('Enter');
    await sees(erin, 'tea at four');

    await tools.getByRole('button', { name: 'Lock', exact: true }).click();
    const late = await openPage(browser, url, contexts, dialogs);
    await submitLogin(late, 'latecomer');
    await late.getByRole('alert').filter({ hasText: 'not accepting new logins' }).waitFor();
    await tools.getByRole('button', { name: 'Unlock' }).click();
    await expect
      .poll(
        async () => {
          // Once a try got in, there is no login form to fill again.
          if (await messageBox(late).isVisible()) return true;
          if (await late.getByLabel('Nickname', { exact: true }).isVisible())
            await submitLogin(late, 'latecomer');
          return messageBox(late).isVisible();
        },
        { timeout: 20_000 },
      )
      .toBe(true);

    await tools.getByRole('button', { name: 'Config' }).click();
    const row = lines(admin, 'message.maxLength');
    await row.first().waitFor();
    expect(await row.first().innerText()).toMatch(/message\.maxLength\s+280\s+default/);

    await tools.getByRole('button', { name: 'Monitor on' }).click();
    await sees(erin, 'monitored by the admins');
    await tools.getByRole('button', { name: 'Monitor off' }).click();

    await tools.getByRole('button', { name: 'Shutdown', exact: true }).click();
    await answerBox(admin, 'Shut down in how many seconds?').fill('600');
    await answerBox(admin, 'Shut down in how many seconds?').press('Enter');
    await sees(erin, 'shutting down in 600 seconds');
    await tools.getByRole('button', { name: 'Cancel shutdown' }).click();
    await sees(erin, 'Shutdown cancelled by admin');

    await admin.locator('.members').getByRole('button', { name: /^erin/ }).click();
    const actions = admin.getByRole('group', { name: 'Actions for erin' });
    await actions.getByRole('button', { name: 'Suspend' }).click();
    await sees(erin, 'erin is suspended by admin');
    await say(erin, 'can I still talk?');
    await lines(erin, 'can I still talk?').locator('.delivery.failed').waitFor();
    await actions.getByRole('button', { name: 'Forgive' }).click();
    await sees(erin, 'no longer suspended');
    await say(erin, 'back to normal');
    await sees(admin, 'back to normal');
    expect(dialogs).toEqual([]);
    // Many steps, each waiting on the page: twice in loaded whole-suite runs it passed 60 s.
  }, 120_000);
  it('scrolls back through a long history, each message once and in order', async () => {
    const writer = await ChatClient.connect({ host: '127.0.0.1', port: chatPort });
    try {
      await writer.login('archivist');
      await writer.request('create', { room: 'archive' });
      for (let n = 1; n <= 130; n++)
        await writer.request('say', { room: 'archive', text: `entry ${n} of 130` });
    } finally {
      writer.destroy();
    }
    await say(erin, '/join archive');
    await erin.getByRole('heading', { name: '#archive', exact: true }).waitFor();
    await sees(erin, 'entry 130 of 130');
    const log = erin.getByRole('log');
    const entries = () => erin.locator('.messages li', { hasText: / of 130$/ }).allInnerTexts();
    // Joining shows the recent past only; scrolling to the top fetches older, page by page.
    expect((await entries()).length).toBeLessThan(130);
    await expect
      .poll(
        async () => {
          await log.evaluate((element) => {
            const list = element as unknown as { scrollTop: number };
            list.scrollTop = 0;
          });
          return (await entries()).length;
        },
        { timeout: 20_000 },
      )
      .toBe(130);
    const numbers = (await entries()).map((text) => Number(/entry (\d+) of/.exec(text)![1]));
    expect(numbers).toEqual(Array.from({ length: 130 }, (_, i) => i + 1));
  }, 60_000);
});
