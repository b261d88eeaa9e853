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
import { guarded, type Sql } from './database.js';

/**
 * Lockout state in PostgreSQL. Each count is one atomic upsert that applies the rule in
 * the statement itself, so failures counted on several nodes at once all count.
 */
export class PostgresLoginGuardStore implements LoginGuardStore {
  constructor(private readonly sql: Sql) {}

  async pair(nameKey: string, address: string): Promise<PairLockout | undefined> {
    const [row] = await guarded(
      () => this.sql<PairRow[]>`
        SELECT * FROM login_failures WHERE name_key = ${nameKey} AND address = ${address}`,
    );
    return row && toPairLockout(row);
  }

  async address(address: string): Promise<AddressLockout | undefined> {
    const [row] = await guarded(
      () => this.sql<AddressRow[]>`SELECT * FROM address_failures WHERE address = ${address}`,
    );
    return row && toAddressLockout(row);
  }

  async recordPairFailure(
    nameKey: string,
    address: string,
    now: number,
    rule: { attempts: number; lockMs: number },
  ): Promise<PairLockout> {
    // At `attempts` failures the pair locks and its count starts again.
    const [row] = await guarded(
      () => this.sql<PairRow[]>`
        INSERT INTO login_failures AS f (name_key, address, failures, locked_until, last_at)
        VALUES (${nameKey}, ${address},
                CASE WHEN 1 >= ${rule.attempts}::bigint THEN 0 ELSE 1 END,
                CASE WHEN 1 >= ${rule.attempts}::bigint THEN ${now}::bigint + ${rule.lockMs}::bigint ELSE 0 END,
                ${now})
        ON CONFLICT (name_key, address) DO UPDATE SET
          failures = CASE WHEN f.failures + 1 >= ${rule.attempts}::bigint THEN 0 ELSE f.failures + 1 END,
          locked_until = CASE WHEN f.failures + 1 >= ${rule.attempts}::bigint
                              THEN ${now}::bigint + ${rule.lockMs}::bigint ELSE f.locked_until END,
          last_at = excluded.last_at
        RETURNING name_key, address, failures, locked_until`,
    );
    return toPairLockout(row!);
  }

  async recordAddressFailure(
    address: string,
    now: number,
    rule: { attempts: number; lockMs: number; windowMs: number },
  ): Promise<AddressLockout> {
    // A window older than windowMs starts again at this failure.
    const [row] = await guarded(
      () => this.sql<AddressRow[]>`
        INSERT INTO address_failures AS a (address, failures, window_start, locked_until)
        VALUES (${address}, 1, ${now},
                CASE WHEN 1 >= ${rule.attempts}::bigint THEN ${now}::bigint + ${rule.lockMs}::bigint ELSE 0 END)
        ON CONFLICT (address) DO UPDATE SET
          failures = CASE WHEN ${now}::bigint - a.window_start >= ${rule.windowMs}::bigint
                          THEN 1 ELSE a.failures + 1 END,
          window_start = CASE WHEN ${now}::bigint - a.window_start >= ${rule.windowMs}::bigint
                              THEN ${now}::bigint ELSE a.window_start END,
          locked_until = CASE
            WHEN (CASE WHEN ${now}::bigint - a.window_start >= ${rule.windowMs}::bigint
                       THEN 1 ELSE a.failures + 1 END) >= ${rule.attempts}::bigint
              THEN ${now}::bigint + ${rule.lockMs}::bigint
            WHEN ${now}::bigint - a.window_start >= ${rule.windowMs}::bigint THEN 0
            ELSE a.locked_until END
        RETURNING address, failures, window_start, locked_until`,
    );
    return toAddressLockout(row!);
  }

  async clearPair(nameKey: string, address: string): Promise<void> {
    await guarded(
      () =>
        this.sql`DELETE FROM login_failures WHERE name_key = ${nameKey} AND address = ${address}`,
    );
  }

  async nameFailures(nameKey: string): Promise<NameFailures | undefined> {
    const [row] = await guarded(
      () => this.sql<NameFailuresRow[]>`SELECT * FROM name_failures WHERE name_key = ${nameKey}`,
    );
    return row && toNameFailures(row);
  }

  async takeNameAttempt(
    nameKey: string,
    now: number,
    windowMs: number,
    waitUntil: (current: NameFailures | undefined) => number,
  ): Promise<{ taken: true; failures: NameFailures } | { taken: false; until: number }> {
    // The rule is a function, so the row is locked while it is applied: attempts on
    // several nodes at once queue on the row.
    return guarded(() =>
      this.sql.begin(async (tx) => {
        await tx`INSERT INTO name_failures (name_key, failures, window_start, last_at)
                 VALUES (${nameKey}, 0, ${now}, ${now}) ON CONFLICT (name_key) DO NOTHING`;
        const [row] = await tx<NameFailuresRow[]>`
          SELECT * FROM name_failures WHERE name_key = ${nameKey} FOR UPDATE`;
        const current = toNameFailures(row!);
        const fresh = current.failures === 0 || now - current.windowStart >= windowMs;
        const until = waitUntil(fresh ? undefined : current);
        if (until > now) return { taken: false as const, until };
        const failures = fresh ? 1 : current.failures + 1;
        const windowStart = fresh ? now : current.windowStart;
        await tx`UPDATE name_failures SET failures = ${failures}, window_start = ${windowStart},
                   last_at = ${now} WHERE name_key = ${nameKey}`;
        return { taken: true as const, failures: { nameKey, failures, windowStart, lastAt: now } };
      }),
    ) as Promise<{ taken: true; failures: NameFailures } | { taken: false; until: number }>;
  }

  async refundNameAttempt(nameKey: string): Promise<void> {
    await guarded(
      () => this.sql`
        UPDATE name_failures SET failures = failures - 1
        WHERE name_key = ${nameKey} AND failures > 0`,
    );
  }

  async knownAddress(nameKey: string, address: string): Promise<number | undefined> {
    const [row] = await guarded(
      () => this.sql<{ last_success: number }[]>`
        SELECT last_success FROM known_addresses
        WHERE name_key = ${nameKey} AND address = ${address}`,
    );
    return row && Number(row.last_success);
  }

  async recordKnownAddress(nameKey: string, address: string, at: number): Promise<void> {
    await guarded(
      () => this.sql`
        INSERT INTO known_addresses (name_key, address, last_success)
        VALUES (${nameKey}, ${address}, ${at})
        ON CONFLICT (name_key, address) DO UPDATE SET last_success = excluded.last_success`,
    );
  }

  async addUnreported(accountId: number, address: string, at: number): Promise<void> {
    await guarded(
      () => this.sql`
        INSERT INTO unreported_failures AS u (account_id, address, count, last_at)
        VALUES (${accountId}, ${address}, 1, ${at})
        ON CONFLICT (account_id, address)
        DO UPDATE SET count = u.count + 1, last_at = excluded.last_at`,
    );
  }

  async takeUnreported(accountId: number): Promise<UnreportedFailure[]> {
    const rows = await guarded(
      () => this.sql<{ address: string; count: number; last_at: number }[]>`
        DELETE FROM unreported_failures WHERE account_id = ${accountId}
        RETURNING address, count, last_at`,
    );
    return rows
      .map((row) => ({ address: row.address, count: row.count, lastAt: row.last_at }))
      .sort((a, b) => a.lastAt - b.lastAt);
  }

  async lockedAt(now: number): Promise<{ pairs: PairLockout[]; addresses: AddressLockout[] }> {
    const [pairs, addresses] = await guarded(() =>
      Promise.all([
        this.sql<PairRow[]>`
          SELECT * FROM login_failures WHERE locked_until > ${now} ORDER BY locked_until`,
        this.sql<AddressRow[]>`
          SELECT * FROM address_failures WHERE locked_until > ${now} ORDER BY locked_until`,
      ]),
    );
    return { pairs: pairs.map(toPairLockout), addresses: addresses.map(toAddressLockout) };
  }

  async prune(now: number, before: number, knownBefore?: number): Promise<void> {
    await guarded(() =>
      Promise.all([
        this.sql`DELETE FROM name_failures WHERE window_start < ${before}`,
        knownBefore === undefined
          ? undefined
          : this.sql`DELETE FROM known_addresses WHERE last_success < ${knownBefore}`,
        this.sql`DELETE FROM login_failures WHERE locked_until <= ${now} AND last_at < ${before}`,
        this
          .sql`DELETE FROM address_failures WHERE locked_until <= ${now} AND window_start < ${before}`,
      ]),
    );
  }
}
