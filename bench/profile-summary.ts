import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Summarises a V8 `.cpuprofile` (from `npm run bench -- --profile`): self time by function,
 * and the longest stalls. Usage: node dist/bench/profile-summary.js FILE [TOP] [FROM_S TO_S]
 */
interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileLine {
  readonly name: string;
  readonly micros: number;
  readonly share: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url === '' ? '' : ` ${shortFile(url)}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${file}`;
}

function shortFile(url: string): string {
  const marker = url.lastIndexOf('/dist/');
  if (marker >= 0) return url.slice(marker + 6);
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 13);
  return path.basename(url);
}

/** Sample times in µs from the profile's start, one per sample. */
function sampleTimes(profile: Profile): number[] {
  let at = 0;
  return profile.timeDeltas.map((delta) => (at += delta));
}

/**
 * Self time per function, largest first, over the samples taken between `fromMicros` and
 * `toMicros` after the profile started (all of them by default): a window picks one load
 * out of a run's profile.
 */
export function selfTimes(
  profile: Profile,
  top: number,
  fromMicros = 0,
  toMicros = Number.POSITIVE_INFINITY,
): ProfileLine[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  return tally(profile, fromMicros, toMicros, (id) => {
    const node = byId.get(id);
    return node && label(node);
  }).slice(0, top);
}

/**
 * Time per name over the samples between `fromMicros` and `toMicros`, largest first:
 * `nameOf` names a sample by its node id, or leaves it out (undefined).
 */
function tally(
  profile: Profile,
  fromMicros: number,
  toMicros: number,
  nameOf: (id: number) => string | undefined,
): ProfileLine[] {
  const times = sampleTimes(profile);
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, index) => {
    const at = times[index] ?? 0;
    if (at < fromMicros || at > toMicros) return;
    const name = nameOf(id);
    if (name === undefined) return;
    const delta = profile.timeDeltas[index] ?? 0;
    totals.set(name, (totals.get(name) ?? 0) + delta);
    all += delta;
  });
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([name, micros]) => ({ name, micros, share: all === 0 ? 0 : micros / all }));
}

/**
 * Where a sample's time belongs by module: the innermost frame that is project code (by
 * folder: `src/bus/redis`, `src/transport`, `core/commands`…) or a package (`ioredis`,
 * `postgres`, `zod`), so a system call made for a package is that package's; GC and the
 * like as V8 names them; what has neither is Node's own.
 */
function moduleOf(node: ProfileNode): string | undefined {
  const { functionName, url } = node.callFrame;
  if (functionName === '(garbage collector)' || functionName === '(program)') return functionName;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 13).split('/')[0];
  const source = /\/dist\/src\/(?:(core|bus|store)\/)?([\w-]+)/.exec(url);
  if (!source) return undefined;
  return source[1] ? `${source[1]}/${source[2]!.replace(/\.js$/, '')}` : `src/${source[2]}`;
}

/**
 * Busy time (idle left out) by module (see `moduleOf`), largest first, within a window as
 * `selfTimes` takes it: how a node's time splits between its own code, the drivers, GC.
 */
export function moduleTimes(
  profile: Profile,
  fromMicros = 0,
  toMicros = Number.POSITIVE_INFINITY,
): ProfileLine[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  return tally(profile, fromMicros, toMicros, (id) => {
    if (byId.get(id)?.callFrame.functionName === '(idle)') return undefined;
    let name: string | undefined;
    for (let at: number | undefined = id; at !== undefined && !name; at = parents.get(at)) {
      const node = byId.get(at);
      if (node) name = moduleOf(node);
    }
    return name ?? 'node (its own code)';
  });
}

export interface Stall {
  /** When the gap ended, µs from the profile's start. */
  readonly atMicros: number;
  readonly micros: number;
  /** The stack of the sample that ended the gap, innermost first. */
  readonly stack: readonly string[];
}

/**
 * The longest gaps between samples, largest first. The sampler cannot interrupt the main
 * thread while it waits inside a system call (an fsync, say), so a stall of the event
 * loop shows as a gap, and the sample that ends it names the call.
 */
export function stalls(profile: Profile, top: number): Stall[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  const times = sampleTimes(profile);
  return profile.timeDeltas
    .map((micros, index) => ({ micros, index }))
    .sort((a, b) => b.micros - a.micros)
    .slice(0, top)
    .map(({ micros, index }) => {
      const stack: string[] = [];
      for (
        let id: number | undefined = profile.samples[index];
        id !== undefined;
        id = parents.get(id)
      ) {
        const node = byId.get(id);
        if (node && node.callFrame.functionName !== '(root)') stack.push(label(node));
      }
      return { atMicros: times[index] ?? 0, micros, stack };
    });
}

const USAGE =
  'usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP|modules] [FROM_S TO_S]\n' +
  '  self time by function (within FROM_S..TO_S seconds of the start), then the longest stalls;\n' +
  '  `modules`: busy time by module instead';

function main(): void {
  const [file, topText, fromText, toText] = process.argv.slice(2);
  const byModule = topText === 'modules';
  const top = byModule ? 1 : Number(topText ?? 30);
  const from = fromText === undefined ? 0 : Number(fromText) * 1e6;
  const to = toText === undefined ? Number.POSITIVE_INFINITY : Number(toText) * 1e6;
  if (!file || !Number.isInteger(top) || top < 1 || Number.isNaN(from) || Number.isNaN(to)) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  if (byModule) {
    for (const line of moduleTimes(profile, from, to))
      console.log(
        `${(line.share * 100).toFixed(1).padStart(5)}%  ${(line.micros / 1000).toFixed(0).padStart(7)} ms  ${line.name}`,
      );
    return;
  }
  for (const line of selfTimes(profile, top, from, to))
    console.log(
      `${(line.share * 100).toFixed(1).padStart(5)}%  ${(line.micros / 1000).toFixed(0).padStart(7)} ms  ${line.name}`,
    );
  console.log(
    '\nlongest gaps between samples (the main thread inside a system call or a GC pause):',
  );
  for (const stall of stalls(profile, 5))
    console.log(
      `${(stall.micros / 1000).toFixed(1).padStart(7)} ms, ended ${(stall.atMicros / 1e6).toFixed(2)} s in: ${stall.stack.slice(0, 4).join(' < ')}`,
    );
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
