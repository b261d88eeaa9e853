import type Database from 'better-sqlite3';
import type {
  AddressLockout,
  LoginGuardStore,
  NameFailures,
  PairLockout,
  UnreportedFailure,
} from '../store.js';
import {
  type AddressRow,
  type NameFailuresRow,
  type PairRow,
  toAddressLockout,
  toNameFailures,
  toPairLockout,
} from '../rows.js';
import { prepared, type WriteBatcher } from './database.js';

/**
 * Lockout state in SQLite. Writes go through the group-commit batcher: a storm of failed
 * logins shares fsyncs with the messages instead of stalling the event loop with one each.
 */
export class SqliteLoginGuardStore implements LoginGuardStore {
  private readonly selectPair: Database.Statement<[string, string], PairRow>;
  private readonly selectAddress: Database.Statement<[string], AddressRow>;
  private readonly bumpPair: Database.Statement<[string, string, number], { failures: number }>;
  private readonly lockPair: Database.Statement<[number, string, string]>;
  private readonly putAddress: Database.Statement<[string, number, number, number]>;
  private readonly deletePair: Database.Statement<[string, string]>;
  private readonly bumpUnreported: Database.Statement<[number, string, number]>;
  private readonly selectUnreported: Database.Statement<
    [number],
    { address: string; count: number; last_at: number }
  >;
  private readonly deleteUnreported: Database.Statement<[number]>;

  constructor(
    private readonly db: Database.Database,
    private readonly batcher: WriteBatcher,
  ) {
    this.selectPair = db.prepare('SELECT * FROM login_failures WHERE name_key = ? AND address = ?');
    this.selectAddress = db.prepare('SELECT * FROM address_failures WHERE address = ?');
    this.bumpPair = db.prepare(
      `INSERT INTO login_failures (name_key, address, failures, last_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (name_key, address)
       DO UPDATE SET failures = failures + 1, last_at = excluded.last_at
       RETURNING failures`,
    );
    this.lockPair = db.prepare(
      'UPDATE login_failures SET failures = 0, locked_until = ? WHERE name_key = ? AND address = ?',
    );
    this.putAddress = db.prepare(
      `INSERT INTO address_failures (address, failures, window_start, locked_until)
       VALUES (?, ?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET failures = excluded.failures,
         window_start = excluded.window_start, locked_until = excluded.locked_until`,
    );
    this.deletePair = db.prepare('DELETE FROM login_failures WHERE name_key = ? AND address = ?');
    this.bumpUnreported = db.prepare(
      `INSERT INTO unreported_failures (account_id, address, count, last_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (account_id, address)
       DO UPDATE SET count = count + 1, last_at = excluded.last_at`,
    );
    this.selectUnreported = db.prepare(
      'SELECT address, count, last_at FROM unreported_failures WHERE account_id = ? ORDER BY last_at',
    );
    this.deleteUnreported = db.prepare('DELETE FROM unreported_failures WHERE account_id = ?');
  }

  async pair(nameKey: string, address: string): Promise<PairLockout | undefined> {
    const row = this.selectPair.get(nameKey, address);
    return row && toPairLockout(row);
  }

  async address(address: string): Promise<AddressLockout | undefined> {
    const row = this.selectAddress.get(address);
    return row && toAddressLockout(row);
  }

  recordPairFailure(
    nameKey: string,
    address: string,
    now: number,
    rule: { attempts: number; lockMs: number },
  ): Promise<PairLockout> {
    return this.batcher.enqueue(() => {
      const { failures } = this.bumpPair.get(nameKey, address, now)!;
      if (failures < rule.attempts) {
        const row = this.selectPair.get(nameKey, address)!;
        return toPairLockout(row);
      }
      this.lockPair.run(now + rule.lockMs, nameKey, address);
      return { nameKey, address, failures: 0, lockedUntil: now + rule.lockMs };
    });
  }

  recordAddressFailure(
    address: string,
    now: number,
    rule: { attempts: number; lockMs: number; windowMs: number },
  ): Promise<AddressLockout> {
    return this.batcher.enqueue(() => {
      const row = this.selectAddress.get(address);
      const fresh = !row || now - row.window_start >= rule.windowMs;
      const failures = fresh ? 1 : row.failures + 1;
      const windowStart = fresh ? now : row.window_start;
      const lockedUntil =
        failures >= rule.attempts ? now + rule.lockMs : fresh ? 0 : row.locked_until;
      this.putAddress.run(address, failures, windowStart, lockedUntil);
      return { address, failures, windowStart, lockedUntil };
    });
  }

  clearPair(nameKey: string, address: string): Promise<void> {
    return this.batcher.enqueue(() => {
      this.deletePair.run(nameKey, address);
    });
  }

  async nameFailures(nameKey: string): Promise<NameFailures | undefined> {
    const row = prepared(this.db, 'SELECT * FROM name_failures WHERE name_key = ?').get(nameKey) as
      NameFailuresRow | undefined;
    return row && toNameFailures(row);
  }

  takeNameAttempt(
    nameKey: string,
    now: number,
    windowMs: number,
    waitUntil: (current: NameFailures | undefined) => number,
  ): Promise<{ taken: true; failures: NameFailures } | { taken: false; until: number }> {
    return this.batcher.enqueue(() => {
      const row = prepared(this.db, 'SELECT * FROM name_failures WHERE name_key = ?').get(
        nameKey,
      ) as NameFailuresRow | undefined;
      // No failures left (all refunded) starts a new window, as an expired one does.
      const fresh = !row || row.failures === 0 || now - row.window_start >= windowMs;
      const until = waitUntil(fresh ? undefined : toNameFailures(row));
      if (until > now) return { taken: false as const, until };
      const failures = fresh ? 1 : row.failures + 1;
      const windowStart = fresh ? now : row.window_start;
      prepared(
        this.db,
        `INSERT INTO name_failures (name_key, failures, window_start, last_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name_key) DO UPDATE SET failures = excluded.failures,
           window_start = excluded.window_start, last_at = excluded.last_at`,
      ).run(nameKey, failures, windowStart, now);
      return { taken: true as const, failures: { nameKey, failures, windowStart, lastAt: now } };
    });
  }

  refundNameAttempt(nameKey: string): Promise<void> {
    return this.batcher.enqueue(() => {
      prepared(
        this.db,
        'UPDATE name_failures SET failures = failures - 1 WHERE name_key = ? AND failures > 0',
      ).run(nameKey);
    });
  }

  async knownAddress(nameKey: string, address: string): Promise<number | undefined> {
    const row = prepared(
      this.db,
      'SELECT last_success FROM known_addresses WHERE name_key = ? AND address = ?',
    ).get(nameKey, address) as { last_success: number } | undefined;
    return row?.last_success;
  }

  recordKnownAddress(nameKey: string, address: string, at: number): Promise<void> {
    return this.batcher.enqueue(() => {
      prepared(
        this.db,
        `INSERT INTO known_addresses (name_key, address, last_success) VALUES (?, ?, ?)
         ON CONFLICT (name_key, address) DO UPDATE SET last_success = excluded.last_success`,
      ).run(nameKey, address, at);
    });
  }

  addUnreported(accountId: number, address: string, at: number): Promise<void> {
    return this.batcher.enqueue(() => {
      this.bumpUnreported.run(accountId, address, at);
    });
  }

  takeUnreported(accountId: number): Promise<UnreportedFailure[]> {
    return this.batcher.enqueue(() => {
      const rows = this.selectUnreported.all(accountId);
      if (rows.length > 0) this.deleteUnreported.run(accountId);
      return rows.map((row) => ({ address: row.address, count: row.count, lastAt: row.last_at }));
    });
  }

  async lockedAt(now: number): Promise<{ pairs: PairLockout[]; addresses: AddressLockout[] }> {
    const pairs = this.db
      .prepare<[number], PairRow>(
        'SELECT * FROM login_failures WHERE locked_until > ? ORDER BY locked_until',
      )
      .all(now)
      .map(toPairLockout);
    const addresses = this.db
      .prepare<[number], AddressRow>(
        'SELECT * FROM address_failures WHERE locked_until > ? ORDER BY locked_until',
      )
      .all(now)
      .map(toAddressLockout);
    return { pairs, addresses };
  }

  prune(now: number, before: number, knownBefore?: number): Promise<void> {
    return this.batcher.enqueue(() => {
      prepared(this.db, 'DELETE FROM login_failures WHERE locked_until <= ? AND last_at < ?').run(
        now,
        before,
      );
      prepared(
        this.db,
        'DELETE FROM address_failures WHERE locked_until <= ? AND window_start < ?',
      ).run(now, before);
      prepared(this.db, 'DELETE FROM name_failures WHERE window_start < ?').run(before);
      if (knownBefore !== undefined)
        prepared(this.db, 'DELETE FROM known_addresses WHERE last_success < ?').run(knownBefore);
    });
  }
}
