import { Command } from 'commander';
import { auditCommand } from './audit.js';
import { backupCommand } from './backup.js';
import { migrateCommand } from './migrate.js';
import { setPasswordCommand } from './set-password.js';
import { usersCommand } from './users.js';

/** `confab admin …`: offline administration of a data directory, server running or not. */
export function adminCommand(): Command {
  return new Command('admin')
    .description(
      'administer a data directory: admin account, accounts, audit log, backup, migrate to PostgreSQL',
    )
    .addCommand(setPasswordCommand())
    .addCommand(usersCommand())
    .addCommand(auditCommand())
    .addCommand(backupCommand())
    .addCommand(migrateCommand());
}
