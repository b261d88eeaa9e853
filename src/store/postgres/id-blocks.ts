import type { IdBlockStore } from '../store.js';
import { guarded, type Sql } from './database.js';

export class PostgresIdBlockStore implements IdBlockStore {
  constructor(private readonly sql: Sql) {}

  async claim(node: string, at: number): Promise<number> {
    const [row] = await guarded(
      () => this.sql<{ block: number }[]>`
        INSERT INTO id_blocks (node, claimed_at) VALUES (${node}, ${at}) RETURNING block`,
    );
    return row!.block;
  }
}
