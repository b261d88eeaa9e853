import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RunContext, ScenarioResult } from './measure.js';
import { describeMachine, markdownResults, spliceResults, textResults } from './report.js';
import { SCENARIOS, type ScenarioName } from './scenarios.js';

/**
 * `npm run bench [-- [--quick] [--profile] [--workers N] [--size N]… [--no-write] [SCENARIO…]]`
 * Scenarios: capacity, fanout, pm, logins, storage, files (default: all).
 */
const USAGE = `usage: npm run bench -- [--quick] [--profile] [--workers N] [--size N]… [--no-write] [${Object.keys(SCENARIOS).join('|')} …]`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function isScenario(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        quick: { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        workers: { type: 'string', default: '2' },
        size: { type: 'string', multiple: true },
        'no-write': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const unknown = positionals.filter((name) => !isScenario(name));
  const workers = Number(values.workers);
  if (unknown.length > 0 || !Number.isInteger(workers) || workers < 1 || workers > 16) {
    console.error(`unknown scenario or bad --workers: ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const chosen =
    positionals.length > 0
      ? positionals.filter(isScenario)
      : (Object.keys(SCENARIOS) as ScenarioName[]);
  const profileDir = values.profile ? path.join(root, 'bench-profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const ctx: RunContext = {
    quick: values.quick,
    workers,
    profileDir,
    sizes: values.size?.map(Number),
    log: (message) => console.log(message),
  };
  const machine = describeMachine();
  console.log(
    `Confab benchmarks (${values.quick ? 'quick' : 'full'}): ${chosen.join(', ')} — ${machine.cores} cores, ` +
      `${machine.memoryGiB.toFixed(1)} GiB, Node ${machine.node}, ${workers} generator processes`,
  );
  const results: ScenarioResult[] = [];
  for (const name of chosen) {
    console.log(`\n▶ ${name}`);
    const started = performance.now();
    try {
      results.push(await SCENARIOS[name](ctx));
    } catch (error) {
      console.error(`  ${name} failed: ${(error as Error).stack ?? String(error)}`);
      results.push({
        name,
        title: name,
        rows: [{ metric: 'error', value: (error as Error).message }],
        notes: [],
      });
    }
    console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  console.log(textResults(results));
  if (profileDir) console.log(`\nServer CPU profiles (.cpuprofile) in ${profileDir}`);
  if (!values['no-write']) {
    const file = path.join(root, 'docs', 'benchmarks.md');
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : '# Confab benchmarks\n';
    const mode = `${values.quick ? 'quick' : 'full'}: ${chosen.join(', ')}`;
    const complete = chosen.length === Object.keys(SCENARIOS).length;
    writeFileSync(file, spliceResults(existing, markdownResults(results, machine, mode), complete));
    console.log(`\nWrote ${path.relative(process.cwd(), file)}`);
  }
  return 0;
}

process.exitCode = await main();
