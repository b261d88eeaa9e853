import path from 'node:path';
import { Command } from 'commander';
import { backupDatabase } from '../../store/sqlite/backup.js';
import { dataDirOf, type AdminFlags, exitWith } from './data-dir.js';

/** Writes a consistent copy of the database into a new data directory, server running or not. */
export async function runBackup(out: string, flags: AdminFlags): Promise<number> {
  const target = path.resolve(out);
  const { file, pages } = await backupDatabase(dataDirOf(flags), target);
  console.log(`Backed up ${pages} pages to ${file}`);
  console.log(`Start a server from the copy with: confab serve --data ${target}`);
  return 0;
}

export function backupCommand(): Command {
  return new Command('backup')
    .description('copy the database, consistently, into a new data directory OUT')
    .argument('<out>', 'directory to create the copy in (must not exist or be empty)')
    .option('--data <dir>', 'data directory (default ./confab-data)')
    .action(async (out: string, flags: AdminFlags) => {
      await exitWith(() => runBackup(out, flags));
    });
}
