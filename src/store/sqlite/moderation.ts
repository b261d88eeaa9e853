import type Database from 'better-sqlite3';
import type {
  Ban,
  ModerationStore,
  ModerationSwitch,
  ModerationSwitches,
  NewBan,
  Suspension,
} from '../store.js';
import { type BanRow, type SuspensionRow, toBan, toSuspension } from '../rows.js';
import { prepared } from './database.js';
import type { SqliteWriter } from './writer.js';

export class SqliteModerationStore implements ModerationStore {
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  addBan(ban: NewBan): Promise<Ban> {
    return this.writer.write('moderation.addBan', [ban], (id) => ({ ...ban, id }));
  }

  removeBans(nameKey: string): Promise<number> {
    return this.writer.write('moderation.removeBans', [nameKey]);
  }

  async activeBans(now: number): Promise<Ban[]> {
    await this.writer.write('moderation.pruneBans', [now]);
    const rows = prepared(this.db, 'SELECT * FROM bans ORDER BY id').all() as BanRow[];
    return rows.map(toBan);
  }

  addSuspension(suspension: Suspension): Promise<void> {
    return this.writer.write('moderation.addSuspension', [suspension]);
  }

  removeSuspension(nameKey: string): Promise<boolean> {
    return this.writer.write('moderation.removeSuspension', [nameKey]);
  }

  async suspensions(): Promise<Suspension[]> {
    const rows = prepared(
      this.db,
      'SELECT * FROM suspensions ORDER BY name_key',
    ).all() as SuspensionRow[];
    return rows.map(toSuspension);
  }

  recordAddress(nameKey: string, address: string, at: number): Promise<void> {
    // Every login records one, and nothing waits on it: it joins the next commit.
    return this.writer.writeLazy('moderation.recordAddress', [nameKey, address, at]);
  }

  async lastAddress(nameKey: string): Promise<string | undefined> {
    // A login's address may still wait for its commit; a ban must see it.
    await this.writer.flush();
    const row = prepared(this.db, 'SELECT address FROM name_addresses WHERE name_key = ?').get(
      nameKey,
    ) as { address: string } | undefined;
    return row?.address;
  }

  async switches(): Promise<ModerationSwitches> {
    const rows = prepared(this.db, 'SELECT name, is_on FROM moderation_switches').all() as Array<{
      name: string;
      is_on: number;
    }>;
    const isOn = (name: ModerationSwitch) =>
      rows.some((row) => row.name === name && row.is_on === 1);
    return { locked: isOn('locked'), monitoring: isOn('monitoring') };
  }

  setSwitch(name: ModerationSwitch, on: boolean): Promise<void> {
    return this.writer.write('moderation.setSwitch', [name, on]);
  }
}
