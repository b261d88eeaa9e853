import { ruledText } from '../text-rules.js';
import { z } from 'zod';
import type { CaseEntry } from '../../store/store.js';
import { checkMayActOn, findTarget } from '../admin/targets.js';
import { ChatError } from '../errors.js';
import { checkName } from '../names.js';
import { defineCommand } from './command.js';

const name = z.string().min(1).max(64);

/** A case entry as the wire shows it. */
function describeEntry(entry: CaseEntry) {
  return {
    id: entry.id,
    action: entry.action,
    by: entry.actor,
    reason: entry.reason,
    at: entry.ts,
    until: entry.expiresAt,
  };
}

export const warnCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'warn',
    aliases: [],
    bare: [],
    args: [
      { name: 'nick', kind: 'name' },
      { name: 'reason', kind: 'text' },
    ],
    summary: 'warn a user (they see it); the warning goes into their moderation case',
    group: 'admin',
  },
  args: z.object({ nick: name, reason: ruledText('reason', z.string().max(500)) }),
  async handle({ core, session }, { nick, reason }) {
    if (reason.trim() === '')
      throw new ChatError('invalid_args', 'A warning needs a reason: /warn NAME REASON');
    const target = await findTarget(core, nick);
    checkMayActOn(session, target, 'warn');
    const subject = { name: target.name, key: target.key };
    await core.admin.cases.record(subject, 'warn', session.nick, reason);
    const warnings = await core.admin.cases.warningsCounted(target.key);
    const online = target.session ?? target.remote;
    if (online) core.notify(online, { ev: 'warning', reason, by: session.nick, warnings });
    await core.admin.audit(session, 'warn', target.name, reason);
    const escalation = await core.admin.cases.afterWarning(subject);
    return {
      nick: target.name,
      warnings,
      online: online !== undefined,
      escalation: escalation ?? null,
    };
  },
});

export const casesCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'cases',
    aliases: [],
    bare: [],
    args: [{ name: 'nick', kind: 'name' }],
    summary: "a user's moderation history: warnings, kicks, suspensions, bans, notes",
    group: 'admin',
  },
  args: z.object({ nick: name }),
  async handle({ core }, { nick }) {
    // A guest who has left is neither online nor registered, yet their case remains.
    const checked = checkName(nick);
    const past = checked.ok ? await core.admin.cases.history(checked.key) : [];
    if (past.length > 0)
      return { nick: past[past.length - 1]!.name, entries: past.map(describeEntry) };
    const target = await findTarget(core, nick);
    return { nick: target.name, entries: [] };
  },
});

export const noteCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'note',
    aliases: [],
    bare: [],
    args: [
      { name: 'nick', kind: 'name' },
      { name: 'text', kind: 'text' },
    ],
    summary: "add a private note to a user's moderation case (admins only see it)",
    group: 'admin',
  },
  args: z.object({ nick: name, text: ruledText('reason', z.string().max(2000)) }),
  async handle({ core, session }, { nick, text }) {
    if (text.trim() === '')
      throw new ChatError('invalid_args', 'A note needs some text: /note NAME TEXT');
    const target = await findTarget(core, nick);
    const entry = await core.admin.cases.record(
      { name: target.name, key: target.key },
      'note',
      session.nick,
      text,
    );
    return { nick: target.name, id: entry.id };
  },
});

export const CASE_COMMANDS = [warnCommand, casesCommand, noteCommand] as const;
