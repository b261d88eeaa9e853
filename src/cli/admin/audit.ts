import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { dateTime } from '../../client/format.js';
import { dataDirOf, type AdminFlags, exitWith } from './data-dir.js';

interface AuditFlags extends AdminFlags {
  json?: boolean;
  security?: boolean;
  admin?: boolean;
}

interface AuditLine {
  time: string;
  kind: 'admin' | 'security';
  action: string;
  actor: string | null;
  target: string | null;
  details: string | null;
  address?: string;
}

/** One entry as a person reads it: local time, who, what, whom, why, from where. */
function describe(line: AuditLine): string {
  const who = line.kind === 'admin' ? (line.actor ?? '?') : '(security)';
  return (
    `${dateTime(Date.parse(line.time))}  ${who.padEnd(14)} ${line.action}` +
    (line.target ? ` ${line.target}` : '') +
    (line.details ? ` (${line.details})` : '') +
    (line.address ? ` from ${line.address}` : '')
  );
}

/**
 * Prints the last entries of `logs/audit.log`: admin actions and security events (failed
 * logins, lockouts, takeovers, password changes). A line that is not an audit record (a
 * torn write after a crash) is skipped, not fatal.
 */
export function runAudit(limit: number, flags: AuditFlags): number {
  const file = path.join(dataDirOf(flags), 'logs', 'audit.log');
  if (!existsSync(file)) throw new Error(`No audit log at ${file} (use --data DIR)`);
  const entries: Array<{ raw: string; line: AuditLine }> = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    if (raw === '') continue;
    let line: AuditLine;
    try {
      line = JSON.parse(raw) as AuditLine;
    } catch {
      continue;
    }
    if (typeof line.time !== 'string' || typeof line.action !== 'string') continue;
    if (flags.security && line.kind !== 'security') continue;
    if (flags.admin && line.kind !== 'admin') continue;
    entries.push({ raw, line });
  }
  const shown = entries.slice(-limit);
  if (shown.length === 0) console.log('(nothing recorded)');
  for (const { raw, line } of shown) console.log(flags.json ? raw : describe(line));
  return 0;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number above 0');
  return n;
}

export function auditCommand(): Command {
  return new Command('audit')
    .description(
      'show the last admin actions and security events from logs/audit.log (who, what, whom, when)',
    )
    .argument('[count]', 'how many entries (default 50)', count)
    .option('--data <dir>', 'data directory (default ./confab-data)')
    .option('--security', 'only security events (failed logins, lockouts, takeovers, …)')
    .option('--admin', 'only admin actions')
    .option('--json', 'the raw JSON lines')
    .action(async (limit: number | undefined, flags: AuditFlags) => {
      await exitWith(async () => runAudit(limit ?? 50, flags));
    });
}
