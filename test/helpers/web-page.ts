import type { Browser, BrowserContext, Page } from 'playwright-core';
import { rmSync } from 'node:fs';
import { runCli, type CliRun } from './cli.js';

/**
 * `confab serve` as a child process (so a test can kill it and start it again) with its
 * web listener on `webPort`, and the few page steps every browser test takes.
 */
export function startWebServer(options: {
  readonly chatPort: number;
  readonly webPort: number;
  readonly dataDir: string;
  readonly adminPassword: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Parameters, as `--set key=value`. */
  readonly set?: readonly string[];
}): Promise<CliRun> {
  const run = runCli(
    [
      'serve',
      String(options.chatPort),
      '--host',
      '127.0.0.1',
      '--data',
      options.dataDir,
      '--web-port',
      String(options.webPort),
      ...(options.set ?? []).flatMap((pair) => ['--set', pair]),
    ],
    { CONFAB_ADMIN_PASSWORD: options.adminPassword, CONFAB_WEB_PORT: '', ...options.env },
  );
  return run.waitForOutput('Browser: open', 20_000).then(() => run);
}

/** A fresh browser context (its own sessionStorage) on the page; dialogs are recorded. */
export async function openPage(
  browser: Browser,
  url: string,
  contexts: BrowserContext[],
  dialogs: string[] = [],
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(url);
  return page;
}

export async function login(page: Page, nick: string, password = ''): Promise<void> {
  await submitLogin(page, nick, password);
  await messageBox(page).waitFor();
}

export async function submitLogin(page: Page, nick: string, password = ''): Promise<void> {
  await page.getByLabel('Nickname', { exact: true }).fill(nick);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

export function messageBox(page: Page) {
  return page.getByRole('textbox', { name: 'Message', exact: true });
}

export async function say(page: Page, text: string): Promise<void> {
  const box = messageBox(page);
  await box.fill(text);
  await box.press('Enter');
}

/** Waits until the conversation on screen shows `text`. */
export async function sees(page: Page, text: string, timeout = 10_000): Promise<void> {
  await page.locator('.messages li', { hasText: text }).first().waitFor({ timeout });
}

/**
 * What a browser test's `afterAll` undoes, in order: its pages, the browser, its processes
 * (the server last, awaited) and its folders. Any of them may be missing when `beforeAll`
 * failed part-way.
 */
export async function tearDown(parts: {
  readonly contexts: readonly BrowserContext[];
  readonly browser: Browser | undefined;
  readonly server: CliRun | undefined;
  readonly others?: readonly CliRun[];
  readonly folders: readonly (string | undefined)[];
}): Promise<void> {
  for (const context of parts.contexts) await context.close().catch(() => undefined);
  await parts.browser?.close();
  for (const run of parts.others ?? []) run.child.kill('SIGKILL');
  parts.server?.child.kill('SIGKILL');
  await parts.server?.exit();
  for (const folder of parts.folders)
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
}
