import type Database from 'better-sqlite3';
import type { CaseAction, CaseEntry, CaseStore, NewCaseEntry } from '../store.js';
import { type CaseRow, toCaseEntry } from '../rows.js';
import { prepared } from './database.js';
import type { SqliteWriter } from './writer.js';

export class SqliteCaseStore implements CaseStore {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  add(entry: NewCaseEntry): Promise<CaseEntry> {
    return this.writer.write('cases.add', [entry], (id) => ({ ...entry, id }));
  }

  async forName(nameKey: string, limit: number): Promise<CaseEntry[]> {
    const rows = prepared(
      this.db,
      `SELECT * FROM (SELECT * FROM moderation_cases WHERE name_key = ? ORDER BY id DESC LIMIT ?)
         ORDER BY id ASC`,
    ).all(nameKey, limit) as CaseRow[];
    return rows.map(toCaseEntry);
  }

  async countSince(nameKey: string, action: CaseAction, since: number): Promise<number> {
    const row = prepared(
      this.db,
      'SELECT COUNT(*) AS n FROM moderation_cases WHERE name_key = ? AND action = ? AND ts >= ?',
    ).get(nameKey, action, since) as { n: number };
    return row.n;
  }

  async latest(nameKey: string, action: CaseAction): Promise<CaseEntry | undefined> {
    const row = prepared(
      this.db,
      'SELECT * FROM moderation_cases WHERE name_key = ? AND action = ? ORDER BY id DESC LIMIT 1',
    ).get(nameKey, action) as CaseRow | undefined;
    return row && toCaseEntry(row);
  }
}
