import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import type { CliRun } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { makeDataDir } from '../helpers/server.js';
import { login, openPage, sees, startWebServer, tearDown } from '../helpers/web-page.js';

/**
 * A file big enough to matter (96 MiB) through the page both ways: the upload is hashed
 * slice by slice as it is read, the download hashed as it streams in, so the page's memory
 * (JavaScript heap plus array-buffer backing stores, sampled over the DevTools protocol)
 * never grows by anything near the file's size. A download whose bytes were changed on the
 * server is refused and never offered to save.
 */
const MiB = 1024 * 1024;
const SIZE = 96 * MiB;
/**
 * Growth allowed over the idle page, whatever the file's size: a slice or two in flight and
 * the stream's own chunks (measured: 2-3 MiB; holding the file cost 96 MiB up, 192 down).
 */
const HEAP_GROWTH_LIMIT = 16 * MiB;

let dataDir: string;
let work: string;
let server: CliRun;
let browser: Browser;
let url: string;
const contexts: BrowserContext[] = [];
let alice: Page;
let bob: Page;
let bigFile: string;
let bigSha: string;

beforeAll(async () => {
  dataDir = makeDataDir();
  work = mkdtempSync(path.join(tmpdir(), 'confab-large-file-'));
  bigFile = path.join(work, 'big.bin');
  // Random bytes, written in pieces: neither compressible nor held whole here.
  const hash = createHash('sha256');
  const fd = openSync(bigFile, 'w');
  for (let written = 0; written < SIZE; written += 8 * MiB) {
    const piece = randomBytes(8 * MiB);
    hash.update(piece);
    writeSync(fd, piece);
  }
  closeSync(fd);
  bigSha = hash.digest('hex');
  const [chatPort, webPort] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${webPort}/`;
  [server, browser] = await Promise.all([
    startWebServer({
      chatPort,
      webPort,
      dataDir,
      adminPassword: 'large-file-admin-password-1',
      set: ['files.minFreeBytes=0'],
    }),
    launchBrowser(),
  ]);
  [alice, bob] = await Promise.all([
    openPage(browser, url, contexts),
    openPage(browser, url, contexts),
  ]);
  await login(alice, 'alice');
  await login(bob, 'bob');
}, 90_000);

afterAll(() => tearDown({ contexts, browser, server, folders: [dataDir, work] }));

/** Samples a page's memory (heap used + array-buffer backing stores) until stopped. */
async function sampleMemory(page: Page): Promise<{ base: number; stop(): Promise<number> }> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  const measure = async () => {
    const usage = (await cdp.send('Runtime.getHeapUsage')) as {
      usedSize: number;
      backingStorageSize?: number;
    };
    return usage.usedSize + (usage.backingStorageSize ?? 0);
  };
  await cdp.send('HeapProfiler.collectGarbage');
  const base = await measure();
  let peak = base;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await measure());
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    base,
    async stop() {
      running = false;
      await loop;
      await cdp.detach();
      return peak;
    },
  };
}

describe('a large file through the web client', () => {
  it('uploads 96 MiB hashed slice by slice, and downloads it hashed as it streams', async () => {
    await bob
      .locator('.members')
      .getByRole('button', { name: /^alice/ })
      .click();
    await alice.locator('.members').getByRole('button', { name: /^bob/ }).click();
    await alice
      .getByRole('group', { name: 'Actions for bob' })
      .getByRole('button', { name: 'Message' })
      .click();

    const upload = await sampleMemory(alice);
    const [chooser] = await Promise.all([
      alice.waitForEvent('filechooser'),
      alice.getByRole('button', { name: 'Attach file' }).click(),
    ]);
    await chooser.setFiles(bigFile);
    await sees(alice, 'Sent big.bin', 120_000);
    const uploadPeak = await upload.stop();
    await sees(alice, bigSha);

    const accept = bob.getByRole('button', { name: 'Accept big.bin' });
    await accept.waitFor({ timeout: 15_000 });
    const download = await sampleMemory(bob);
    const [saved] = await Promise.all([
      bob.waitForEvent('download', { timeout: 120_000 }),
      accept.click(),
    ]);
    await sees(bob, `Downloaded big.bin: SHA-256 ${bigSha} checked`, 60_000);
    const downloadPeak = await download.stop();

    const savedPath = (await saved.path())!;
    expect(statSync(savedPath).size).toBe(SIZE);
    const savedHash = createHash('sha256');
    const fd = openSync(savedPath, 'r');
    const buffer = Buffer.alloc(8 * MiB);
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0;)
      savedHash.update(buffer.subarray(0, read));
    closeSync(fd);
    expect(savedHash.digest('hex')).toBe(bigSha);

    expect(uploadPeak - upload.base, 'page memory growth while uploading').toBeLessThan(
      HEAP_GROWTH_LIMIT,
    );
    expect(downloadPeak - download.base, 'page memory growth while downloading').toBeLessThan(
      HEAP_GROWTH_LIMIT,
    );
  }, 300_000);

  it('refuses a download whose bytes changed on the server, and saves nothing', async () => {
    const bytes = Buffer.from('the original content\n'.repeat(4000));
    writeFileSync(path.join(work, 'small.txt'), bytes);
    const [chooser] = await Promise.all([
      alice.waitForEvent('filechooser'),
      alice.getByRole('button', { name: 'Attach file' }).click(),
    ]);
    await chooser.setFiles(path.join(work, 'small.txt'));
    await sees(alice, 'Sent small.txt');
    // The stored copy is flipped behind the server's back: same size, other bytes.
    const stored = findFile(dataDir, bytes.length);
    const fd = openSync(stored, 'r+');
    writeSync(fd, Buffer.from('X'), 0, 1, 100);
    closeSync(fd);

    const downloads: string[] = [];
    bob.on('download', (download) => downloads.push(download.suggestedFilename()));
    await bob.getByRole('button', { name: 'Accept small.txt' }).click();
    await sees(bob, 'small.txt: the SHA-256 does not match; the file was discarded');
    expect(downloads).toEqual([]);
  }, 60_000);
});

/** The one file of `size` bytes under `dir` (the server's stored copy). */
function findFile(dir: string, size: number): string {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (statSync(full).size === size) found.push(full);
    }
  };
  walk(dir);
  expect(found).toHaveLength(1);
  return found[0]!;
}
