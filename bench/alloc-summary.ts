import { readFileSync } from 'node:fs';

/**
 * Summarises a sampled allocation profile (bench/core-pm.ts with CONFAB_BENCH_ALLOC_PROFILE):
 * bytes allocated per message by the function that allocated them, largest first. The
 * samples include objects already collected, so this is what the load allocates, not what
 * it keeps. Usage: node dist/bench/alloc-summary.js FILE MESSAGES [TOP]
 */
interface AllocNode {
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly selfSize: number;
  readonly children: readonly AllocNode[];
}

function label(node: AllocNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const marker = url.lastIndexOf('/dist/');
  const modules = url.lastIndexOf('node_modules/');
  const file = marker >= 0 ? url.slice(marker + 6) : modules >= 0 ? url.slice(modules + 13) : url;
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

const [file, messagesText, topText = '40'] = process.argv.slice(2);
if (!file || !messagesText) {
  console.error('usage: node dist/bench/alloc-summary.js FILE.heapprofile MESSAGES [TOP]');
  process.exit(2);
}
const messages = Number(messagesText);
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: AllocNode };
const bySelf = new Map<string, number>();
let total = 0;
const walk = (node: AllocNode) => {
  if (node.selfSize > 0) {
    const name = label(node);
    bySelf.set(name, (bySelf.get(name) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children) walk(child);
};
walk(head);
console.log(`allocated (sampled) per message: ${(total / messages).toFixed(0)} B`);
for (const [name, bytes] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, Number(topText)))
  console.log(`${(bytes / messages).toFixed(0).padStart(7)} B  ${name}`);
