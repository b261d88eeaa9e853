import { Command } from 'commander';
import { formatReply } from '../../client/format.js';
import { dataDirOf, openExistingStore, type AdminFlags, exitWith } from './data-dir.js';

/** Lists accounts as `/users` does (never passwords or hashes). */
export async function runUsers(flags: AdminFlags): Promise<number> {
  const store = openExistingStore(dataDirOf(flags));
  try {
    const accounts = (await store.accounts.list()).map((account) => ({
      name: account.name,
      role: account.role,
      createdAt: account.createdAt,
      lastSeenAt: account.lastSeenAt,
      online: false,
    }));
    for (const line of formatReply('users', { accounts })) console.log(line);
  } finally {
    await store.close();
  }
  return 0;
}

export function usersCommand(): Command {
  return new Command('users')
    .description('list accounts with role, creation and last login')
    .option('--data <dir>', 'data directory (default ./confab-data)')
    .action(async (flags: AdminFlags) => {
      await exitWith(() => runUsers(flags));
    });
}
