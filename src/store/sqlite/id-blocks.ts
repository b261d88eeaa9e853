import type { IdBlockStore } from '../store.js';
import type { SqliteWriter } from './writer.js';

export class SqliteIdBlockStore implements IdBlockStore {
  constructor(private readonly writer: SqliteWriter) {}

  claim(node: string, at: number): Promise<number> {
    return this.writer.write('idBlocks.claim', [node, at], (block) => block);
  }
}
