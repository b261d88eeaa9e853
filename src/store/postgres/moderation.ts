import type {
  Ban,
  ModerationStore,
  ModerationSwitch,
  ModerationSwitches,
  NewBan,
  Suspension,
} from '../store.js';
import { type BanRow, type SuspensionRow, toBan, toSuspension } from '../rows.js';
import { guarded, type Sql } from './database.js';

export class PostgresModerationStore implements ModerationStore {
  /** Address writes not yet committed, per name: a ban reading the address waits for them. */
  private readonly pendingAddresses = new Map<string, Promise<void>>();

  constructor(private readonly sql: Sql) {}

  async addBan(ban: NewBan): Promise<Ban> {
    const [row] = await guarded(
      () => this.sql<{ id: number }[]>`
        INSERT INTO bans (name_key, name, address, reason, created_at, expires_at, created_by)
        VALUES (${ban.nameKey}, ${ban.name}, ${ban.address}, ${ban.reason}, ${ban.createdAt},
                ${ban.expiresAt}, ${ban.createdBy})
        RETURNING id`,
    );
    return { ...ban, id: row!.id };
  }

  async removeBans(nameKey: string): Promise<number> {
    const result = await guarded(() => this.sql`DELETE FROM bans WHERE name_key = ${nameKey}`);
    return result.count;
  }

  async activeBans(now: number): Promise<Ban[]> {
    await guarded(
      () => this.sql`DELETE FROM bans WHERE expires_at IS NOT NULL AND expires_at <= ${now}`,
    );
    const rows = await guarded(() => this.sql<BanRow[]>`SELECT * FROM bans ORDER BY id`);
    return rows.map(toBan);
  }

  async addSuspension(suspension: Suspension): Promise<void> {
    await guarded(
      () => this.sql`
        INSERT INTO suspensions (name_key, name, created_at, created_by, expires_at)
        VALUES (${suspension.nameKey}, ${suspension.name}, ${suspension.createdAt},
                ${suspension.createdBy}, ${suspension.expiresAt})
        ON CONFLICT (name_key) DO NOTHING`,
    );
  }

  async removeSuspension(nameKey: string): Promise<boolean> {
    const result = await guarded(
      () => this.sql`DELETE FROM suspensions WHERE name_key = ${nameKey}`,
    );
    return result.count > 0;
  }

  async suspensions(): Promise<Suspension[]> {
    const rows = await guarded(
      () => this.sql<SuspensionRow[]>`SELECT * FROM suspensions ORDER BY name_key COLLATE "C"`,
    );
    return rows.map(toSuspension);
  }

  recordAddress(nameKey: string, address: string, at: number): Promise<void> {
    // Every login records one and nothing waits on it, but a ban on the name must see it.
    const write = guarded(
      () => this.sql`
        INSERT INTO name_addresses (name_key, address, last_used_at)
        VALUES (${nameKey}, ${address}, ${at})
        ON CONFLICT (name_key) DO UPDATE SET address = excluded.address,
          last_used_at = excluded.last_used_at
        WHERE name_addresses.last_used_at <= excluded.last_used_at`,
    ).then(() => undefined);
    const settled = write.catch(() => undefined);
    this.pendingAddresses.set(nameKey, settled);
    void settled.then(() => {
      if (this.pendingAddresses.get(nameKey) === settled) this.pendingAddresses.delete(nameKey);
    });
    return write;
  }

  async lastAddress(nameKey: string): Promise<string | undefined> {
    await this.pendingAddresses.get(nameKey);
    const [row] = await guarded(
      () => this.sql<{ address: string }[]>`
        SELECT address FROM name_addresses WHERE name_key = ${nameKey}`,
    );
    return row?.address;
  }

  async switches(): Promise<ModerationSwitches> {
    const rows = await guarded(
      () =>
        this.sql<{ name: string; is_on: boolean }[]>`SELECT name, is_on FROM moderation_switches`,
    );
    const isOn = (name: ModerationSwitch) => rows.some((row) => row.name === name && row.is_on);
    return { locked: isOn('locked'), monitoring: isOn('monitoring') };
  }

  async setSwitch(name: ModerationSwitch, on: boolean): Promise<void> {
    await guarded(
      () => this.sql`
        INSERT INTO moderation_switches (name, is_on) VALUES (${name}, ${on})
        ON CONFLICT (name) DO UPDATE SET is_on = excluded.is_on`,
    );
  }
}
