#!/usr/bin/env node
// `npm start`: runs `confab serve` from the built output, building first only when a
// source file is newer than the build. Recompiling on every start cost 12-44 s before
// the server listened, right after a crash too.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// CONFAB_START_ROOT: another project layout (tests).
const root = process.env.CONFAB_START_ROOT ?? path.dirname(here);
const built = path.join(root, 'dist', 'src', 'cli', 'main.js');

/** Newest modification time of the TypeScript sources under `dir`. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (/\.tsx?$/.test(entry.name)) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

const sources = Math.max(
  newestSource(path.join(root, 'src')),
  statSync(path.join(root, 'tsconfig.json')).mtimeMs,
);
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  console.log('confab: building (the sources changed since the last build)…');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
// The browser client (web/, and the shared src/ modules it bundles) has its own build.
const page = path.join(root, 'dist', 'web', 'index.html');
const webSources = existsSync(path.join(root, 'web'))
  ? Math.max(newestSource(path.join(root, 'web', 'src')), sources)
  : 0;
if (webSources > 0 && (!existsSync(page) || statSync(page).mtimeMs < webSources)) {
  console.log('confab: building the web client…');
  const result = spawnSync('npm', ['run', 'build:web', '--silent'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
process.argv = [process.argv[0], built, 'serve', ...process.argv.slice(2)];
await import(pathToFileURL(built).href);
