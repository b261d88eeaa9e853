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
import { type WriteBatcher, prepared, runStatement } from './database.js';

export class SqliteModerationStore implements ModerationStore {
  constructor(
    private readonly db: Database.Database,
    private readonly batcher: WriteBatcher,
  ) {}

  async addBan(ban: NewBan): Promise<Ban> {
    const { lastInsertRowid } = runStatement(
      this.db,
      `INSERT INTO bans (name_key, name, address, reason, created_at, expires_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ban.nameKey,
      ban.name,
      ban.address,
      ban.reason,
      ban.createdAt,
      ban.expiresAt,
      ban.createdBy,
    );
    return { ...ban, id: Number(lastInsertRowid) };
  }

  async removeBans(nameKey: string): Promise<number> {
    return runStatement(this.db, 'DELETE FROM bans WHERE name_key = ?', nameKey).changes;
  }

  async activeBans(now: number): Promise<Ban[]> {
    runStatement(this.db, 'DELETE FROM bans WHERE expires_at IS NOT NULL AND expires_at <= ?', now);
    const rows = prepared(this.db, 'SELECT * FROM bans ORDER BY id').all() as BanRow[];
    return rows.map(toBan);
  }

  async addSuspension(suspension: Suspension): Promise<void> {
    runStatement(
      this.db,
      `INSERT INTO suspensions (name_key, name, created_at, created_by, expires_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name_key) DO NOTHING`,
      suspension.nameKey,
      suspension.name,
      suspension.createdAt,
      suspension.createdBy,
      suspension.expiresAt,
    );
  }

  async removeSuspension(nameKey: string): Promise<boolean> {
    return runStatement(this.db, 'DELETE FROM suspensions WHERE name_key = ?', nameKey).changes > 0;
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
    return this.batcher.enqueueLazy(() => {
      prepared(
        this.db,
        `INSERT INTO name_addresses (name_key, address, last_used_at) VALUES (?, ?, ?)
           ON CONFLICT (name_key) DO UPDATE SET address = excluded.address,
             last_used_at = excluded.last_used_at`,
      ).run(nameKey, address, at);
    });
  }

  async lastAddress(nameKey: string): Promise<string | undefined> {
    // A login's address may still wait in the batcher; a ban must see it.
    this.batcher.flush();
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

  async setSwitch(name: ModerationSwitch, on: boolean): Promise<void> {
    runStatement(
      this.db,
      `INSERT INTO moderation_switches (name, is_on) VALUES (?, ?)
       ON CONFLICT (name) DO UPDATE SET is_on = excluded.is_on`,
      name,
      on ? 1 : 0,
    );
  }
}
