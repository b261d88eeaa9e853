import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { hashPassword, passwordProblem } from '../../core/accounts/passwords.js';
import { checkName } from '../../core/names.js';
import { promptSecret } from '../prompt.js';
import { dataDirOf, exitWith, type AdminFlags } from './data-dir.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { nameSkeleton } from '../../core/accounts/confusables.js';

interface SetPasswordFlags extends AdminFlags {
  passwordFile?: string;
}

async function readPassword(flags: SetPasswordFlags): Promise<string> {
  if (flags.passwordFile) return readFileSync(flags.passwordFile, 'utf8').replace(/\r?\n$/, '');
  if (!process.stdin.isTTY)
    throw new Error('No terminal to ask the password on: use --password-file FILE');
  const first = await promptSecret('New password: ');
  const second = await promptSecret('New password again: ');
  if (first !== second) throw new Error('The two passwords differ; nothing was changed');
  return first;
}

/** Creates the named admin account, or resets an existing account's password. */
export async function runSetPassword(name: string, flags: SetPasswordFlags): Promise<number> {
  const checked = checkName(name);
  if (!checked.ok) {
    console.error(`confab: ${checked.reason}`);
    return 2;
  }
  const dataDir = dataDirOf(flags);
  const password = await readPassword(flags);
  const problem = passwordProblem(password);
  if (problem) {
    console.error(`confab: ${problem}`);
    return 2;
  }
  const passwordHash = await hashPassword(password);
  // A fresh directory may be set up before the first start: this creates its database.
  const store = SqliteStore.open(dataDir);
  try {
    const existing = await store.accounts.findByKey(checked.key);
    if (existing) {
      await store.accounts.setPasswordHash(existing.id, passwordHash);
      console.log(`Password of ${existing.name} (${existing.role}) reset in ${dataDir}`);
    } else {
      await store.accounts.create({
        name: checked.name,
        nameKey: checked.key,
        nameSkeleton: nameSkeleton(checked.key),
        passwordHash,
        role: 'admin',
        createdAt: Date.now(),
      });
      console.log(`Created admin account ${checked.name} in ${dataDir}`);
    }
  } finally {
    await store.close();
  }
  return 0;
}

export function setPasswordCommand(): Command {
  return new Command('set-password')
    .description('create an admin account, or reset an account password')
    .argument('<name>', 'account name')
    .option('--data <dir>', 'data directory (default ./confab-data)')
    .option('--password-file <file>', 'read the password from this file instead of asking')
    .action(async (name: string, flags: SetPasswordFlags) => {
      await exitWith(() => runSetPassword(name, flags));
    });
}
