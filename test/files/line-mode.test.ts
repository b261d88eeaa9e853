import { readFileSync, readdirSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { randomFile, sha256Of, tempDir } from './helpers.js';

let server: TestServer;
let work: string;
beforeEach(async () => {
  server = await startTestServer();
  work = tempDir('files-cli');
});
afterEach(async () => {
  await server.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('file commands in line mode', () => {
  it('sends with the seed spelling, prints progress with size and speed, and saves downloads', async () => {
    const downloads = path.join(work, 'downloads');
    mkdirSync(downloads);
    const source = randomFile(work, 'notes.bin', 3 * 1024 * 1024);
    const target = `127.0.0.1:${server.port}`;
    const bob = runCli(['connect', target, '--nick', 'bob', '--downloads', downloads]);
    await bob.waitForOutput('You are bob');
    const alice = runCli(['connect', target, '--nick', 'alice']);
    await alice.waitForOutput('You are alice');

    alice.child.stdin.write(`file bob "${source.file}"\n`);
    await alice.waitForOutput(
      /upload notes\.bin: 3\.0 MiB of 3\.0 MiB \(100%\) at [\d.]+ [KMG]?i?B\/s/,
    );
    await alice.waitForOutput('SHA-256 verified');
    await bob.waitForOutput('alice sent you notes.bin (3.0 MiB');

    bob.child.stdin.write('fileget\n');
    await bob.waitForOutput('Waiting for you:');
    await bob.waitForOutput(/f\d+\s+notes\.bin/);
    // Chat typed during the download is not held up: it is sent while the file arrives.
    bob.child.stdin.write('fileget alice notes.bin\nthanks!\n');
    await alice.waitForOutput('<bob> thanks!');
    await bob.waitForOutput(/Saved notes\.bin \(3\.0 MiB, from alice\) to .*notes\.bin/);
    await alice.waitForOutput('notes.bin (f');
    await alice.waitForOutput('was fetched by bob');
    expect(readdirSync(downloads)).toEqual(['notes.bin']);
    expect(sha256Of(readFileSync(path.join(downloads, 'notes.bin')))).toBe(source.sha256);

    alice.child.stdin.end();
    bob.child.stdin.end();
    expect(await alice.exit()).toBe(0);
    expect(await bob.exit()).toBe(0);
  });

  it('reports a missing local file without leaving', async () => {
    const alice = runCli(['connect', `127.0.0.1:${server.port}`, '--nick', 'alice']);
    await alice.waitForOutput('You are alice');
    alice.child.stdin.write(`/upload ${path.join(work, 'nope.bin')}\n/who\n`);
    await alice.waitForOutput(/alice\s+s\d+\s+active/);
    alice.child.stdin.end();
    expect(await alice.exit()).toBe(0);
    expect(alice.stderr()).toMatch(/error \(local\): .*nope\.bin/);
  });
});
