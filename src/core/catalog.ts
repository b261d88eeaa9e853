import { createHash } from 'node:crypto';
import type { CommandInfo } from '../protocol/catalog.js';

export { usageOf, type ArgInfo, type ArgKind, type CommandInfo } from '../protocol/catalog.js';

/**
 * The catalogue's hash as announced in `hello`: SHA-256 of its JSON as sent, hex, first 32
 * digits. A client that cached a catalogue under this hash need not ask for it again.
 */
export function catalogueHash(catalogue: readonly CommandInfo[]): string {
  return createHash('sha256').update(JSON.stringify(catalogue)).digest('hex').slice(0, 32);
}
