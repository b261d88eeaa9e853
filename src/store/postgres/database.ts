import postgres from 'postgres';
import { StoreConflictError, StoreUnavailableError } from '../store.js';

/**
 * Timestamps and ids are BIGINT (milliseconds, sequence values): parsed to numbers, which
 * hold them exactly up to 2^53.
 */
const TYPES = {
  int8: { from: [20], parse: (raw: string) => Number(raw) },
};

/** The driver's connection pool; every sub-store shares one. */
export type Sql = postgres.Sql<{ int8: number }>;
/** A transaction's handle (the same tagged-template API, bound to one connection). */
export type TxSql = postgres.TransactionSql<{ int8: number }>;

export interface PostgresOptions {
  /**
   * The schema Confab's tables live in (created when missing). Default: the `schema` query
   * parameter of the URL, else `public`. Tests give each run its own.
   */
  readonly schema?: string;
  /** Most connections this node opens (the pool is bounded: requests queue beyond it). */
  readonly poolSize?: number;
  /** Longest a statement may run on the server before PostgreSQL cancels it. */
  readonly statementTimeoutMs?: number;
  /** Longest to wait for a connection (opening one, or a free one from the pool). */
  readonly connectTimeoutMs?: number;
  /** How this node's connections show in `pg_stat_activity` (default `confab`). */
  readonly applicationName?: string;
}

export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ParsedUrl {
  /** The URL without Confab's own `schema` parameter, as the driver takes it. */
  readonly url: string;
  readonly schema: string;
}

/** Splits Confab's `schema` parameter off a `postgres://` URL and checks the schema name. */
export function parsePostgresUrl(raw: string, schemaOverride?: string): ParsedUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new Error(`a PostgreSQL store URL starts with postgres://, got ${url.protocol}//`);
  const schema = schemaOverride ?? url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  if (!SCHEMA_NAME.test(schema))
    throw new Error(
      `schema must be lower-case letters, digits and _ (at most 63, not starting with a digit), got "${schema}"`,
    );
  return { url: url.toString(), schema };
}

/** Opens the bounded pool. */
export function openPool(url: string, schema: string, options: PostgresOptions): Sql {
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return postgres(url, {
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connect_timeout: connectTimeoutMs / 1000,
    // A request waiting for a free connection gives up too, rather than queueing for ever
    // behind a database that stopped answering.
    queue_timeout: connectTimeoutMs / 1000,
    // The server cancels a slow statement; this client-side limit also covers a network
    // that stopped answering (a statement the server never saw).
    query_timeout: (statementTimeoutMs + 2_000) / 1000,
    idle_timeout: 60,
    onnotice: false,
    connection: {
      application_name: options.applicationName ?? 'confab',
      search_path: schema,
      statement_timeout: statementTimeoutMs,
      idle_in_transaction_session_timeout: statementTimeoutMs * 2,
    },
    types: TYPES,
  });
}

/**
 * SQLSTATE classes meaning the database could not do it now (as opposed to a request it
 * refuses): connection loss (08), out of resources (53), operator intervention and
 * cancelled statements (57), system errors (58), read-only (25006), serialization and
 * deadlock (40).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58|40|XX)|^25006$/;
/** The driver's own error codes for a connection that failed or a pool that timed out. */
const UNAVAILABLE_DRIVER = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'QUEUE_TIMEOUT',
  'QUERY_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Maps a driver error onto the store's error types, so callers never see PostgreSQL codes. */
export function translateError(error: unknown): Error {
  if (error instanceof StoreConflictError || error instanceof StoreUnavailableError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string') {
    if (code === '23505') return new StoreConflictError(message);
    if (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_DRIVER.has(code))
      return new StoreUnavailableError(`PostgreSQL: ${message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(message);
}

/** Runs a query, with the driver's errors mapped onto the store's (`translateError`). */
export async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translateError(error);
  }
}
