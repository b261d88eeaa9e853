import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { DiskBlobStore } from '../../store/blobs.js';
import type { Sql } from '../../store/postgres/database.js';
import { PostgresStore } from '../../store/postgres/postgres-store.js';
import { DATABASE_FILE, openDatabase } from '../../store/sqlite/database.js';

/**
 * Copies an embedded installation (a data directory: SQLite and the files folder) into
 * PostgreSQL, table by table, then the files' bytes, and verifies the copy.
 *
 * Resumable without duplicates: each table is copied in one PostgreSQL transaction that
 * also records it as done (`confab_migration`), so an interrupted run leaves every table
 * either wholly copied and recorded, or untouched; a re-run skips what is recorded and
 * copies the rest. Each file's bytes are a blob of their own, skipped when already there.
 */

type Value = string | number | boolean | null | bigint | Buffer;
type Row = Record<string, Value>;

export interface MigrationReport {
  readonly tables: readonly TableReport[];
  readonly files: { readonly copied: number; readonly skipped: number; readonly verified: number };
}

export interface TableReport {
  readonly table: string;
  readonly rows: number;
  readonly checksum: string;
  /** Copied by an earlier, interrupted run. */
  readonly resumed: boolean;
}

export interface MigrateOptions {
  readonly from: string;
  readonly to: string;
  /** Rows per INSERT. */
  readonly batchRows?: number;
  readonly log?: (line: string) => void;
}

/** Tables PostgreSQL keeps for itself; everything else in the SQLite file is Confab's. */
const TARGET_ONLY = new Set(['confab_schema', 'confab_migration', 'blobs', 'blob_chunks']);
/**
 * SQLite's own record of the highest id each table handed out (ids are never reused,
 * see migration 15): PostgreSQL keeps that in its sequences, set from it after the copy.
 */
const SOURCE_ONLY = new Set(['id_high_water']);

/**
 * Rows that mean nothing outside the process that wrote them: uploads cut off by the
 * stop, and files for guests (sessions do not survive a move). What a restart would drop,
 * the move drops; guest senders are detached as a restart detaches them.
 */
const SOURCE_FILTER: Record<string, { where: string; transform?: (row: Row) => Row }> = {
  files: {
    where: `state = 'ready' AND recipient_guest IS NULL`,
    transform: (row) => ({ ...row, sender_guest: null }),
  },
};

export async function migrateToPostgres(options: MigrateOptions): Promise<MigrationReport> {
  const log = options.log ?? (() => undefined);
  const batchRows = options.batchRows ?? 500;
  const dataDir = path.resolve(options.from);
  if (!existsSync(path.join(dataDir, DATABASE_FILE)))
    throw new Error(`No Confab database in ${dataDir}`);
  // Brings an older data directory's schema up to date first, as a server start would.
  const source = openDatabase(dataDir);
  const target = await PostgresStore.open(options.to);
  try {
    const sql = target.sql;
    await sql`
      CREATE TABLE IF NOT EXISTS confab_migration (
        table_name TEXT PRIMARY KEY,
        rows       BIGINT NOT NULL,
        checksum   TEXT   NOT NULL,
        source     TEXT   NOT NULL,
        at         BIGINT NOT NULL
      )`;
    const done = new Map(
      (
        await sql<
          { table_name: string; source: string }[]
        >`SELECT table_name, source FROM confab_migration`
      ).map((row) => [row.table_name, row.source]),
    );
    for (const [table, from] of done)
      if (from !== dataDir)
        throw new Error(
          `The target already holds ${table} migrated from ${from}, not ${dataDir}: use another database or schema`,
        );
    if (done.size === 0) await refuseNonEmpty(sql);

    const tables = orderedTables(source).filter(
      (table) => !TARGET_ONLY.has(table) && !SOURCE_ONLY.has(table),
    );
    const targetColumns = await columnsOf(sql);
    const reports: TableReport[] = [];
    let highest = new Map<string, number>();
    // One snapshot of the source for the whole copy.
    source.exec('BEGIN');
    try {
      for (const table of tables) {
        const columns = sourceColumns(source, table);
        const known = targetColumns.get(table);
        if (!known) throw new Error(`PostgreSQL has no table ${table}: is this Confab older?`);
        const missing = columns.filter((column) => !known.has(column));
        if (missing.length > 0)
          throw new Error(
            `PostgreSQL's ${table} lacks ${missing.join(', ')}: is this Confab older?`,
          );
        if (done.has(table)) {
          const [row] = await sql<{ rows: number; checksum: string }[]>`
            SELECT rows, checksum FROM confab_migration WHERE table_name = ${table}`;
          log(`${table}: ${row!.rows} rows, copied by an earlier run`);
          reports.push({ table, rows: row!.rows, checksum: row!.checksum, resumed: true });
          continue;
        }
        reports.push(await copyTable(source, sql, table, columns, known, batchRows, dataDir, log));
      }
      highest = highestIdsHandedOut(source);
    } finally {
      source.exec('COMMIT');
    }
    await resetIdentities(sql, tables, highest);
    const files = await copyFiles(target, dataDir, log);

    log('verifying…');
    for (const report of reports) {
      const columns = sourceColumns(source, report.table);
      const known = targetColumns.get(report.table)!;
      const actual = await targetChecksum(sql, report.table, columns, known);
      const ok = actual.rows === report.rows && actual.checksum === report.checksum;
      log(
        `  ${report.table.padEnd(22)} ${String(report.rows).padStart(8)} rows  ${report.checksum.slice(0, 16)}  ${ok ? 'ok' : `MISMATCH: ${actual.rows} rows, ${actual.checksum.slice(0, 16)}`}`,
      );
      if (!ok) throw new Error(`Verification failed for ${report.table}`);
    }
    log(
      `  ${'file bytes'.padEnd(22)} ${String(files.verified).padStart(8)} files  SHA-256 each  ok`,
    );
    return { tables: reports, files };
  } finally {
    source.close();
    await target.close();
  }
}

/** A target with Confab data not put there by a migration would get two installations mixed. */
async function refuseNonEmpty(sql: Sql): Promise<void> {
  const [row] = await sql<{ n: number }[]>`
    SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM messages) AS n`;
  if (Number(row!.n) > 0)
    throw new Error(
      'The target database already holds accounts or messages: migrate into an empty one',
    );
}

/** Tables in an order where each comes after the tables its foreign keys point to. */
function orderedTables(db: Database.Database): string[] {
  const names = (
    db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
      )
      .all() as { name: string }[]
  ).map((row) => row.name);
  const parents = new Map<string, string[]>();
  for (const name of names)
    parents.set(
      name,
      (
        db.prepare(`SELECT "table" AS parent FROM pragma_foreign_key_list(?)`).all(name) as {
          parent: string;
        }[]
      )
        .map((row) => row.parent)
        .filter((parent) => parent !== name),
    );
  const ordered: string[] = [];
  const visit = (name: string, path: Set<string>) => {
    if (ordered.includes(name) || path.has(name)) return;
    path.add(name);
    for (const parent of parents.get(name) ?? []) visit(parent, path);
    ordered.push(name);
  };
  for (const name of names) visit(name, new Set());
  return ordered;
}

function sourceColumns(db: Database.Database, table: string): string[] {
  return (
    db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).all(table) as {
      name: string;
    }[]
  ).map((row) => row.name);
}

/** Each table's columns in the target schema, with their types. */
async function columnsOf(sql: Sql): Promise<Map<string, Map<string, string>>> {
  const rows = await sql<{ table_name: string; column_name: string; data_type: string }[]>`
    SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = current_schema()`;
  const tables = new Map<string, Map<string, string>>();
  for (const row of rows) {
    let columns = tables.get(row.table_name);
    if (!columns) tables.set(row.table_name, (columns = new Map()));
    columns.set(row.column_name, row.data_type);
  }
  return tables;
}

/** SQLite keeps booleans as 0/1; PostgreSQL wants them typed. */
function toTarget(value: Value, type: string | undefined): Value {
  if (type === 'boolean' && typeof value === 'number') return value !== 0;
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/**
 * A checksum that does not depend on row order (the two databases sort text differently):
 * the sum, modulo 2^128, of each row's SHA-256. A missing, extra, duplicated or changed row
 * changes it.
 */
class RowChecksum {
  rows = 0;
  private sum = 0n;

  add(columns: readonly string[], row: Row): void {
    const canonical = columns.map((column) => {
      const value = row[column];
      if (value === true) return 1;
      if (value === false) return 0;
      if (typeof value === 'bigint') return Number(value);
      return value ?? null;
    });
    const digest = createHash('sha256').update(JSON.stringify(canonical)).digest();
    this.sum =
      (this.sum + digest.readBigUInt64BE(0) * 2n ** 64n + digest.readBigUInt64BE(8)) % 2n ** 128n;
    this.rows++;
  }

  get hex(): string {
    return this.sum.toString(16).padStart(32, '0');
  }
}

async function copyTable(
  source: Database.Database,
  sql: Sql,
  table: string,
  columns: readonly string[],
  types: ReadonlyMap<string, string>,
  batchRows: number,
  dataDir: string,
  log: (line: string) => void,
): Promise<TableReport> {
  const filter = SOURCE_FILTER[table];
  const where = filter ? ` WHERE ${filter.where}` : '';
  const [{ total }] = source.prepare(`SELECT count(*) AS total FROM "${table}"${where}`).all() as [
    { total: number },
  ];
  const checksum = new RowChecksum();
  const rows = source
    .prepare(`SELECT * FROM "${table}"${where}`)
    .iterate() as IterableIterator<Row>;
  await sql.begin(async (tx) => {
    // A table is copied whole or not at all: what an interrupted run left is rolled back.
    await tx.unsafe(`DELETE FROM "${table}"`);
    let batch: Row[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await tx`INSERT INTO ${tx(table)} ${tx(batch, ...columns)}`;
      batch = [];
      if (total > batchRows) log(`${table}: ${checksum.rows}/${total} rows`);
    };
    for (const raw of rows) {
      const row = filter?.transform ? filter.transform(raw) : raw;
      const converted: Row = {};
      for (const column of columns)
        converted[column] = toTarget(row[column] ?? null, types.get(column));
      checksum.add(columns, converted);
      batch.push(converted);
      if (batch.length >= batchRows) await flush();
    }
    await flush();
    await tx`
      INSERT INTO confab_migration (table_name, rows, checksum, source, at)
      VALUES (${table}, ${checksum.rows}, ${checksum.hex}, ${dataDir}, ${Date.now()})`;
  });
  log(`${table}: ${checksum.rows} rows copied`);
  return { table, rows: checksum.rows, checksum: checksum.hex, resumed: false };
}

/**
 * The highest id each table has handed out, rows deleted since included: from the
 * high-water table (accounts, rooms, bans) and from SQLite's AUTOINCREMENT record.
 */
function highestIdsHandedOut(db: Database.Database): Map<string, number> {
  const highest = new Map<string, number>();
  const has = (name: string) =>
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !==
    undefined;
  const rows: { name: string; high: number }[] = [];
  if (has('id_high_water'))
    rows.push(...(db.prepare(`SELECT name, high FROM id_high_water`).all() as typeof rows));
  if (has('sqlite_sequence'))
    rows.push(
      ...(db.prepare(`SELECT name, seq AS high FROM sqlite_sequence`).all() as typeof rows),
    );
  for (const { name, high } of rows) highest.set(name, Math.max(highest.get(name) ?? 0, high));
  return highest;
}

/**
 * Ids were copied as they were: new rows must be numbered after them, and after any id
 * the source handed out to a row deleted since (ids are never reused).
 */
async function resetIdentities(
  sql: Sql,
  tables: readonly string[],
  highest: ReadonlyMap<string, number>,
): Promise<void> {
  const identities = await sql<{ table_name: string; column_name: string }[]>`
    SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND is_identity = 'YES'`;
  for (const { table_name: table, column_name: column } of identities) {
    if (!tables.includes(table)) continue;
    await sql.unsafe(
      `SELECT setval(pg_get_serial_sequence('"${table}"', '${column}'),
                     greatest(coalesce((SELECT max("${column}") FROM "${table}"), 0),
                              ${Number(highest.get(table) ?? 0)}) + 1, false)`,
    );
  }
}

async function targetChecksum(
  sql: Sql,
  table: string,
  columns: readonly string[],
  types: ReadonlyMap<string, string>,
): Promise<{ rows: number; checksum: string }> {
  const checksum = new RowChecksum();
  const list = columns.map((column) => `"${column}"`).join(', ');
  await sql.unsafe(`SELECT ${list} FROM "${table}"`).cursor(1000, (rows: Row[]) => {
    for (const row of rows) {
      const converted: Row = {};
      for (const column of columns)
        converted[column] = toTarget(row[column] ?? null, types.get(column));
      checksum.add(columns, converted);
    }
  });
  return { rows: checksum.rows, checksum: checksum.hex };
}

/**
 * Copies each copied file's bytes from the files folder into the database's blobs, then
 * reads every one back and checks its SHA-256 against the file's record.
 */
async function copyFiles(target: PostgresStore, dataDir: string, log: (line: string) => void) {
  const disk = new DiskBlobStore(path.join(dataDir, 'files'));
  const files = await target.sql<{ storage_name: string; sha256: string; size: number }[]>`
    SELECT storage_name, sha256, size FROM files ORDER BY id`;
  const states = new Map(
    (await target.sql<{ name: string; state: string }[]>`SELECT name, state FROM blobs`).map(
      (row) => [row.name, row.state],
    ),
  );
  let copied = 0;
  let skipped = 0;
  for (const file of files) {
    if (states.get(file.storage_name) === 'ready') {
      skipped++;
      continue;
    }
    // Left half-written by an interrupted run: start that file again.
    if (states.has(file.storage_name)) await target.blobs.remove(file.storage_name);
    const reader = await disk.open(file.storage_name);
    const writer = await target.blobs.create(file.storage_name);
    try {
      for (let offset = 0; ;) {
        const chunk = await reader.read(offset, 1024 * 1024);
        if (chunk.length === 0) break;
        await writer.write(chunk);
        offset += chunk.length;
      }
      await writer.commit();
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    } finally {
      await reader.close();
    }
    copied++;
    log(`file bytes: ${copied + skipped}/${files.length} files`);
  }
  let verified = 0;
  for (const file of files) {
    const reader = await target.blobs.open(file.storage_name);
    const hash = createHash('sha256');
    let size = 0;
    try {
      for (;;) {
        const chunk = await reader.read(size, 1024 * 1024);
        if (chunk.length === 0) break;
        hash.update(chunk);
        size += chunk.length;
      }
    } finally {
      await reader.close();
    }
    if (size !== file.size || hash.digest('hex') !== file.sha256)
      throw new Error(`Verification failed for the bytes of ${file.storage_name}`);
    verified++;
  }
  return { copied, skipped, verified };
}
