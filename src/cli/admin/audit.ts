import { Command, InvalidArgumentError } from 'commander';
import { dataDirOf, openExistingStore, type AdminFlags, exitWith } from './data-dir.js';

/** Prints the last entries of the audit log: who did what to whom, when. */
export async function runAudit(limit: number, flags: AdminFlags): Promise<number> {
  const store = openExistingStore(dataDirOf(flags));
  try {
    const entries = await store.audit.recent(limit);
    if (entries.length === 0) console.log('(no admin actions recorded)');
    for (const entry of entries)
      console.log(
        `${new Date(entry.ts).toISOString()}  ${entry.actor.padEnd(16)} ${entry.action}` +
          (entry.target ? ` ${entry.target}` : '') +
          (entry.details ? ` (${entry.details})` : ''),
      );
  } finally {
    await store.close();
  }
  return 0;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number above 0');
  return n;
}

export function auditCommand(): Command {
  return new Command('audit')
    .description('show the last admin actions (who, what, whom, when)')
    .argument('[count]', 'how many entries (default 50)', count)
    .option('--data <dir>', 'data directory (default ./confab-data)')
    .action(async (limit: number | undefined, flags: AdminFlags) => {
      await exitWith(() => runAudit(limit ?? 50, flags));
    });
}
