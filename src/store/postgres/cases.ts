import type { CaseAction, CaseEntry, CaseStore, NewCaseEntry } from '../store.js';
import { type CaseRow, toCaseEntry } from '../rows.js';
import { guarded, type Sql } from './database.js';

/** The moderation case log: history, only ever added to. */
export class PostgresCaseStore implements CaseStore {
  constructor(private readonly sql: Sql) {}

  async add(entry: NewCaseEntry): Promise<CaseEntry> {
    const [row] = await guarded(
      () => this.sql<{ id: number }[]>`
        INSERT INTO moderation_cases (name_key, name, action, actor, reason, ts, expires_at)
        VALUES (${entry.nameKey}, ${entry.name}, ${entry.action}, ${entry.actor},
                ${entry.reason}, ${entry.ts}, ${entry.expiresAt})
        RETURNING id`,
    );
    return { ...entry, id: row!.id };
  }

  async forName(nameKey: string, limit: number): Promise<CaseEntry[]> {
    const rows = await guarded(
      () => this.sql<CaseRow[]>`
        SELECT * FROM (SELECT * FROM moderation_cases WHERE name_key = ${nameKey}
                        ORDER BY id DESC LIMIT ${limit}) AS newest
         ORDER BY id ASC`,
    );
    return rows.map(toCaseEntry);
  }

  async countSince(nameKey: string, action: CaseAction, since: number): Promise<number> {
    const [row] = await guarded(
      () => this.sql<{ n: number }[]>`
        SELECT count(*) AS n FROM moderation_cases
         WHERE name_key = ${nameKey} AND action = ${action} AND ts >= ${since}`,
    );
    return row?.n ?? 0;
  }

  async latest(nameKey: string, action: CaseAction): Promise<CaseEntry | undefined> {
    const [row] = await guarded(
      () => this.sql<CaseRow[]>`
        SELECT * FROM moderation_cases WHERE name_key = ${nameKey} AND action = ${action}
         ORDER BY id DESC LIMIT 1`,
    );
    return row && toCaseEntry(row);
  }
}
