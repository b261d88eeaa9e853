import { readFileSync, readdirSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsStore } from '../../src/client/settings.js';
import type { TransferProgress } from '../../src/client/tui/progress.js';
import { TuiController } from '../../src/client/tui/controller.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually, randomFile, sha256Of, tempDir, transfersFor } from './helpers.js';

let server: TestServer | undefined;
let work: string | undefined;
let controller: TuiController | undefined;
afterEach(async () => {
  controller?.exit();
  await controller?.finished;
  await server?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

const texts = (tui: TuiController) =>
  tui.state.windows.flatMap((window) => window.lines).map((line) => line.text);

describe('file commands in the full-screen client', () => {
  it('moves files in the background with a progress bar per transfer', async () => {
    server = await startTestServer();
    work = tempDir('files-tui');
    const downloads = path.join(work, 'downloads');
    mkdirSync(downloads);
    const tui = new TuiController({
      target: { host: '127.0.0.1', port: server.port },
      defaultPort: 7777,
      nick: 'alice',
      password: undefined,
      connectOptions: (target) => ({ host: target.host, port: target.port }),
      settings: new SettingsStore(path.join(work, 'config')),
      downloadsDir: downloads,
    });
    controller = tui;
    const bars: TransferProgress[] = [];
    const setTransfer = tui.state.setTransfer.bind(tui.state);
    tui.state.setTransfer = (progress) => {
      bars.push(progress);
      setTransfer(progress);
    };
    void tui.start();
    await eventually(() => tui.state.nick === 'alice');
    const bob = await server.connect('bob');

    const outgoing = randomFile(work, 'out.bin', 3 * 1024 * 1024);
    const offered = bob.waitFor((event) => event.ev === 'file');
    tui.submit(`/send bob ${outgoing.file}`);
    await offered;
    await eventually(() => texts(tui).some((text) => /out\.bin .* sent as f\d+/.test(text)));
    expect(bars.at(-1)).toMatchObject({
      direction: 'upload',
      name: 'out.bin',
      totalBytes: 3 * 1024 * 1024,
    });
    expect(bars.at(-1)!.bytes).toBe(3 * 1024 * 1024);
    await eventually(() => tui.state.transfers.length === 0);

    const incoming = randomFile(work, 'in.bin', 1024 * 1024);
    await transfersFor(bob, work).send('alice', incoming.file);
    tui.submit('/get bob in.bin');
    await eventually(() => texts(tui).some((text) => text.startsWith('Saved in.bin')));
    expect(bars.some((bar) => bar.direction === 'download' && bar.name === 'in.bin')).toBe(true);
    expect(readdirSync(downloads)).toEqual(['in.bin']);
    expect(sha256Of(readFileSync(path.join(downloads, 'in.bin')))).toBe(incoming.sha256);
  });
});
