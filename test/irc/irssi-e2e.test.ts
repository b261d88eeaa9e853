import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { PtyScreen } from '../helpers/pty-screen.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Debian's irssi (`.ci/run` installs it); without it this file is skipped, visibly. */
function hasIrssi(): boolean {
  try {
    execFileSync('irssi', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let server: TestServer;
let home: string;

beforeEach(async () => {
  server = await startTestServer({ ircPort: 0 });
  home = mkdtempSync(path.join(tmpdir(), 'confab-irssi-'));
});

afterEach(async () => {
  await server.dispose();
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!hasIrssi())('irssi, a real IRC client, in a pseudo-terminal', () => {
  it('chats in a room with a line-mode client, both ways', async () => {
    const ircPort = server.server.ircAddress!.port;
    const irssi = new PtyScreen(
      'irssi',
      ['--home', home, '-n', 'irene', '-c', '127.0.0.1', '-p', String(ircPort)],
      { cols: 120, rows: 40, env: { ...process.env, TERM: 'xterm-256color', LANG: 'C.UTF-8' } },
    );
    try {
      await irssi.waitFor('the lobby', (text) => text.includes('#lobby'), 15_000);
      await irssi.type('/join #tea\r');
      // The typed command shows "#tea" at once: wait for the server's JOIN, which creates it.
      await irssi.waitFor('#tea joined', (text) => text.includes('has joined #tea'), 10_000);

      const line = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'lina']);
      await line.waitForOutput('You are lina');
      line.child.stdin.write('/join tea\n');
      await line.waitForOutput(/joined|tea/);
      await irssi.waitFor('lina joining', (text) => text.includes('lina'), 10_000);

      line.child.stdin.write('/switch tea\n');
      line.child.stdin.write('earl grey or green?\n');
      await irssi.waitFor(
        "the line client's message",
        (text) => text.includes('earl grey or green?'),
        10_000,
      );

      await irssi.type('green, always\r');
      await line.waitForOutput('<irene> green, always');
      line.child.stdin.end();
      await line.exit();
      await irssi.type('/quit\r');
      await irssi.exited;
    } finally {
      irssi.kill();
    }
  });
});
