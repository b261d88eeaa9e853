import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const START = path.resolve('scripts/start.mjs');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  until: RegExp,
): Promise<{ output: string; code: number | null }> {
  const child = spawn(process.execPath, [START, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ${String(until)} in time:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (until.test(output)) child.kill('SIGKILL');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ output, code });
    });
  });
}

describe('npm start', () => {
  it('starts the server from the built output when it is current, without recompiling', async () => {
    const data = mkdtempSync(path.join(tmpdir(), 'confab-start-'));
    dirs.push(data);
    // `npm test` has just built: the output is current.
    const { output } = await run(
      ['--host', '127.0.0.1', '--port', '0', '--data', data],
      { CONFAB_ADMIN_PASSWORD: 'start-test-password-1' },
      /127\.0\.0\.1:\d+/,
    );
    expect(output).not.toContain('building');
    expect(output).toMatch(/listening/);
  });

  it('builds first when a source is newer than the build', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'confab-start-root-'));
    dirs.push(root);
    mkdirSync(path.join(root, 'src', 'cli'), { recursive: true });
    writeFileSync(
      path.join(root, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { outDir: 'dist', rootDir: '.', module: 'nodenext', target: 'es2022' },
        include: ['src'],
      }),
    );
    writeFileSync(path.join(root, 'package.json'), '{"type":"module"}');
    const source = path.join(root, 'src', 'cli', 'main.ts');
    writeFileSync(
      source,
      'declare const process: { argv: string[] };\n' +
        'declare const console: { log(...parts: unknown[]): void };\n' +
        "console.log('built main ran with', process.argv.slice(2).join(' '));\n",
    );
    const first = await run(['7000'], { CONFAB_START_ROOT: root }, /built main ran/);
    expect(first.output).toContain('building');
    expect(first.output).toContain('built main ran with serve 7000');
    // Current now: no second build.
    const second = await run([], { CONFAB_START_ROOT: root }, /built main ran/);
    expect(second.output).not.toContain('building');
    // A source changed after the build: built again.
    const later = new Date(Date.now() + 5000);
    utimesSync(source, later, later);
    const third = await run([], { CONFAB_START_ROOT: root }, /built main ran/);
    expect(third.output).toContain('building');
  }, 120_000);
});
