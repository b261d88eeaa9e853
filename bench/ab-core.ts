import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * An A/B of the in-process benches (core-pm, core-room): two builds, or one build under two
 * environments, run alternately RUNS times each, so that a drift of the machine over the
 * minutes falls on both sides alike. Each run is one process: start-up is not measured, the
 * figures are the load's (CPU of every thread, of the event loop where Linux says, and wall
 * time, per message). Prints each run and the medians, and B against A in per cent.
 *
 *   node dist/bench/ab-core.js --script core-pm --messages 20000 --runs 9 \
 *     --a dist --a-env CONFAB_BENCH_METRICS=off --b dist
 *
 * `--a`/`--b`: a dist directory (inside a checkout with node_modules); `--a-env`/`--b-env`:
 * NAME=VALUE, repeatable. On this project's 2-core machine identical runs spread over about
 * ±15 % (the SQLite writer thread's batch sizes, where collections fall), so a median of 25
 * resolves about ±4 %: take enough runs for the difference you want to see.
 */
interface Side {
  readonly name: 'A' | 'B';
  readonly dist: string;
  readonly env: Readonly<Record<string, string>>;
}

interface Run {
  readonly messages: number;
  readonly ms: number;
  readonly cpuMicros: number;
  readonly mainThreadCpuMicros?: number;
}

const { values } = parseArgs({
  options: {
    script: { type: 'string', default: 'core-pm' },
    messages: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '25' },
    a: { type: 'string' },
    b: { type: 'string' },
    'a-env': { type: 'string', multiple: true, default: [] },
    'b-env': { type: 'string', multiple: true, default: [] },
  },
});

function side(name: 'A' | 'B', dist: string | undefined, env: readonly string[]): Side {
  if (dist === undefined) throw new Error(`--${name.toLowerCase()} DIST is required`);
  const pairs = env.map((entry) => {
    const at = entry.indexOf('=');
    if (at < 1) throw new Error(`not NAME=VALUE: ${entry}`);
    return [entry.slice(0, at), entry.slice(at + 1)] as const;
  });
  return { name, dist, env: Object.fromEntries(pairs) };
}

function runOnce(on: Side, script: string, messages: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(on.dist, 'bench', `${script}.js`), String(messages)],
      { env: { ...process.env, ...on.env }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${script} exited ${code}`));
      else resolve(JSON.parse(line) as Run);
    });
  });
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const script = values.script;
  const messages = Number(values.messages);
  const runs = Number(values.runs);
  const sides = [side('A', values.a, values['a-env']), side('B', values.b, values['b-env'])];
  const results = new Map<Side, Run[]>(sides.map((s) => [s, []]));
  for (let round = 0; round < runs; round++) {
    // Alternate which side goes first, so neither always follows the other.
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const on of order) {
      const run = await runOnce(on, script, messages);
      results.get(on)!.push(run);
      const loop = run.mainThreadCpuMicros;
      console.log(
        `${on.name} round ${round + 1}: ${((run.cpuMicros / messages) * 1000).toFixed(0)} ns CPU` +
          (loop === undefined ? '' : `, ${((loop / messages) * 1000).toFixed(0)} ns event loop`) +
          `, ${((run.ms / messages) * 1e6).toFixed(0)} ns wall per message`,
      );
    }
  }
  const figure = (on: Side, pick: (run: Run) => number | undefined): number | undefined => {
    const picked = results.get(on)!.map(pick);
    return picked.some((value) => value === undefined)
      ? undefined
      : median(picked as number[]) / messages;
  };
  const rows: [string, (run: Run) => number | undefined][] = [
    ['CPU per message (all threads), µs', (run) => run.cpuMicros],
    ['event loop CPU per message, µs', (run) => run.mainThreadCpuMicros],
    ['wall time per message, µs', (run) => run.ms * 1000],
  ];
  console.log(`\n${script}, ${messages} messages, median of ${runs}:`);
  for (const [label, pick] of rows) {
    const [a, b] = sides.map((on) => figure(on, pick));
    if (a === undefined || b === undefined) continue;
    console.log(
      `${label}: A ${a.toFixed(2)}, B ${b.toFixed(2)}, B/A ${((b / a - 1) * 100).toFixed(1)} %`,
    );
  }
}

await main();
