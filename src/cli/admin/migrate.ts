import { Command } from 'commander';
import { exitWith } from './data-dir.js';
import { migrateToPostgres } from './migrate-copy.js';

interface MigrateFlags {
  from: string;
  to: string;
  batchRows?: string;
}

/** `confab admin migrate --from DATA_DIR --to postgres://…`: one process to a cluster. */
export async function runMigrate(flags: MigrateFlags): Promise<number> {
  if (!/^postgres(ql)?:\/\//.test(flags.to))
    throw new Error(`--to must be a postgres:// URL, not "${flags.to}"`);
  const batchRows = flags.batchRows === undefined ? undefined : Number(flags.batchRows);
  if (batchRows !== undefined && !(Number.isInteger(batchRows) && batchRows > 0))
    throw new Error('--batch-rows must be a whole number above 0');
  console.log(`Copying ${flags.from} into PostgreSQL (stop the server using it first)`);
  const report = await migrateToPostgres({
    from: flags.from,
    to: flags.to,
    ...(batchRows !== undefined && { batchRows }),
    log: (line) => console.log(line),
  });
  const rows = report.tables.reduce((sum, table) => sum + table.rows, 0);
  console.log(
    `Done: ${report.tables.length} tables, ${rows} rows, ${report.files.verified} files, all verified.`,
  );
  console.log(
    `Start each node with: confab serve --store '${flags.to}' (plus --bus and --node-id)`,
  );
  return 0;
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('copy an embedded installation (data directory) into PostgreSQL, resumably')
    .requiredOption('--from <dir>', 'the data directory to copy (its server stopped)')
    .requiredOption('--to <url>', 'postgres://USER@HOST/DB (?schema=NAME for another schema)')
    .option('--batch-rows <n>', 'rows per INSERT (default 500)')
    .action(async (flags: MigrateFlags) => {
      await exitWith(() => runMigrate(flags));
    });
}
