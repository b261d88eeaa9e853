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
import { prepared } from './database.js';
import type { SqliteWriter } from './writer.js';

/**
 * Lockout state in SQLite. Writes go to the writer thread with everything else: a storm of
 * failed logins shares commits with the messages instead of costing a commit each.
 */
export class SqliteLoginGuardStore implements LoginGuardStore {
  private readonly selectPair: Database.Statement<[string, string], PairRow>;
  private readonly selectAddress: Database.Statement<[string], AddressRow>;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {
    this.selectPair = db.prepare('SELECT * FROM login_failures WHERE name_key = ? AND address = ?');
    this.selectAddress = db.prepare('SELECT * FROM address_failures WHERE address = ?');
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
    return this.writer.write('loginGuard.recordPairFailure', [nameKey, address, now, rule]);
  }

  recordAddressFailure(
    address: string,
    now: number,
    rule: { attempts: number; lockMs: number; windowMs: number },
  ): Promise<AddressLockout> {
    return this.writer.write('loginGuard.recordAddressFailure', [address, now, rule]);
  }

  clearPair(nameKey: string, address: string): Promise<void> {
    return this.writer.write('loginGuard.clearPair', [nameKey, address]);
  }

  async nameFailures(nameKey: string): Promise<NameFailures | undefined> {
    const row = prepared(this.db, 'SELECT * FROM name_failures WHERE name_key = ?').get(nameKey) as
      NameFailuresRow | undefined;
    return row && toNameFailures(row);
  }

  async takeNameAttempt(
    nameKey: string,
    now: number,
    windowMs: number,
    waitUntil: (current: NameFailures | undefined) => number,
  ): Promise<{ taken: true; failures: NameFailures } | { taken: false; until: number }> {
    // `waitUntil` runs here, on the row as last committed; the writer takes the attempt
    // only if the row is still that one, else this reads and decides again (another
    // attempt at the same name committed in between).
    for (;;) {
      const row = (prepared(this.db, 'SELECT * FROM name_failures WHERE name_key = ?').get(
        nameKey,
      ) ?? null) as NameFailuresRow | null;
      // No failures left (all refunded) starts a new window, as an expired one does.
      const fresh = !row || row.failures === 0 || now - row.window_start >= windowMs;
      const until = waitUntil(fresh ? undefined : toNameFailures(row));
      const outcome = await this.writer.write('loginGuard.takeNameAttempt', [
        nameKey,
        now,
        windowMs,
        row,
        until,
      ]);
      if (!('stale' in outcome)) return outcome;
    }
  }

  refundNameAttempt(nameKey: string): Promise<void> {
    return this.writer.write('loginGuard.refundNameAttempt', [nameKey]);
  }

  async knownAddress(nameKey: string, address: string): Promise<number | undefined> {
    const row = prepared(
      this.db,
      'SELECT last_success FROM known_addresses WHERE name_key = ? AND address = ?',
    ).get(nameKey, address) as { last_success: number } | undefined;
    return row?.last_success;
  }

  recordKnownAddress(nameKey: string, address: string, at: number): Promise<void> {
    return this.writer.write('loginGuard.recordKnownAddress', [nameKey, address, at]);
  }

  addUnreported(accountId: number, address: string, at: number): Promise<void> {
    return this.writer.write('loginGuard.addUnreported', [accountId, address, at]);
  }

  takeUnreported(accountId: number): Promise<UnreportedFailure[]> {
    return this.writer.write('loginGuard.takeUnreported', [accountId]);
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
    return this.writer.write('loginGuard.prune', [now, before, knownBefore ?? null]);
  }
}
