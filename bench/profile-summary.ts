import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Summarises a V8 `.cpuprofile` (from `npm run bench -- --profile`): self time by function,
 * and total time by source file. Usage: node dist/bench/profile-summary.js FILE [TOP]
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

/** Self time per function, largest first. */
export function selfTimes(profile: Profile, top: number): ProfileLine[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const name = label(node);
    totals.set(name, (totals.get(name) ?? 0) + delta);
    all += delta;
  });
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => ({ name, micros, share: all === 0 ? 0 : micros / all }));
}

function main(): void {
  const [file, topText] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP]');
    process.exitCode = 2;
    return;
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  for (const line of selfTimes(profile, Number(topText ?? 30)))
    console.log(
      `${(line.share * 100).toFixed(1).padStart(5)}%  ${(line.micros / 1000).toFixed(0).padStart(7)} ms  ${line.name}`,
    );
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
