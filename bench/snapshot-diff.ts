import { readFileSync } from 'node:fs';

/**
 * What one heap snapshot holds beyond another, by kind of object: count and bytes (self
 * size), divided by N (the messages in flight in the first, say). Usage:
 *   node dist/bench/snapshot-diff.js MORE.heapsnapshot LESS.heapsnapshot N [TOP]
 */
interface Snapshot {
  readonly snapshot: {
    readonly meta: { readonly node_fields: string[]; readonly node_types: [string[]] };
  };
  readonly nodes: number[];
  readonly strings: string[];
}

function tally(file: string): Map<string, { count: number; bytes: number }> {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byKind = new Map<string, { count: number; bytes: number }>();
  for (let at = 0; at < nodes.length; at += width) {
    const type = types[nodes[at + typeAt]!]!;
    // Strings and numbers by type only; objects and closures by constructor or name.
    const name = ['string', 'number', 'concatenated string', 'sliced string'].includes(type)
      ? ''
      : strings[nodes[at + nameAt]!]!.slice(0, 60);
    const kind = `${type} ${name}`;
    const entry = byKind.get(kind) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[at + sizeAt]!;
    byKind.set(kind, entry);
  }
  return byKind;
}

const [more, less, perText, topText = '40'] = process.argv.slice(2);
if (!more || !less || !perText) {
  console.error('usage: node dist/bench/snapshot-diff.js MORE LESS N [TOP]');
  process.exit(2);
}
const per = Number(perText);
const a = tally(more);
const b = tally(less);
const rows = [...a].map(([kind, { count, bytes }]) => {
  const other = b.get(kind) ?? { count: 0, bytes: 0 };
  return { kind, count: (count - other.count) / per, bytes: (bytes - other.bytes) / per };
});
const total = rows.reduce((sum, row) => sum + row.bytes, 0);
console.log(`difference per unit: ${total.toFixed(0)} B`);
for (const row of rows.sort((x, y) => y.bytes - x.bytes).slice(0, Number(topText)))
  console.log(
    `${row.bytes.toFixed(1).padStart(8)} B ${row.count.toFixed(2).padStart(7)}×  ${row.kind}`,
  );
