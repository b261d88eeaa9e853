import { ruledText } from '../text-rules.js';
import { z } from 'zod';
import { describeDuration, parseDuration } from '../admin/duration.js';
import { canonicalAddress } from '../limits/address-group.js';
import {
  checkMayActOn,
  findOnlineTarget,
  findTarget,
  removeTarget,
  type Target,
} from '../admin/targets.js';
import type { ChatCore } from '../chat-core.js';
import type { Session } from '../session.js';
import { ChatError } from '../errors.js';
import { checkName } from '../names.js';
import { defineCommand } from './command.js';

const name = z.string().min(1).max(64);
const reason = ruledText('reason', z.string().max(500)).optional();

function withReason(text: string, why: string | undefined): string {
  return why ? `${text}: ${why}` : text;
}

export const kickCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'kick',
    aliases: ['kill'],
    bare: ['kill'],
    args: [
      { name: 'nick', kind: 'name' },
      { name: 'reason', kind: 'text', optional: true },
    ],
    summary: 'disconnect a user; everyone is told',
    group: 'admin',
  },
  args: z.object({ nick: name, reason }),
  async handle({ core, session }, { nick, reason }) {
    const target = await findOnlineTarget(core, nick);
    checkMayActOn(session, target, 'kick');
    await removeTarget(
      core,
      target,
      reason === undefined ? { reason: 'kicked' } : { reason: 'kicked', message: reason },
      { code: 'kicked', message: withReason(`You were kicked by ${session.nick}`, reason) },
    );
    await core.admin.cases.recordTaken(
      { name: target.name, key: target.key },
      'kick',
      session.nick,
      reason ?? null,
    );
    await core.admin.audit(session, 'kick', target.name, reason ?? null);
    return { nick: target.name };
  },
});

export const banCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'ban',
    aliases: [],
    bare: [],
    args: [
      { name: 'nick', kind: 'name' },
      // Words that are their own only choice: clients send them as `true`.
      { name: 'address', kind: 'word', optional: true, choices: ['address'] },
      { name: 'force', kind: 'word', optional: true, choices: ['force'] },
      { name: 'duration', kind: 'duration', optional: true },
      { name: 'reason', kind: 'text', optional: true },
    ],
    summary:
      'keep an account (or guest nickname) out, for a time or for good; "address" bans its address too',
    group: 'admin',
  },
  args: z.object({
    nick: name,
    /** Also ban the address the user was last seen from (everyone behind it). */
    address: z.boolean().optional(),
    /** Ban the address even when it is the issuing admin's own. */
    force: z.boolean().optional(),
    duration: z.union([z.string().max(32), z.number().int()]).optional(),
    reason,
  }),
  async handle({ core, session }, { nick, address: byAddress, force, duration, reason }) {
    const durationMs = duration === undefined ? null : parseDuration(duration);
    if (durationMs === undefined)
      throw new ChatError(
        'invalid_args',
        `"${duration}" is not a duration: try 30m, 2h, 7d or forever`,
      );
    const target = await findTarget(core, nick);
    checkMayActOn(session, target, 'ban');
    if (core.admin.moderation.activeBans().some((ban) => ban.nameKey === target.key))
      throw new ChatError('no_change', `${target.name} is already banned: /unban first`);
    // The name by default; an address only when asked, since it shuts out everyone behind
    // it (a NAT, a classroom, the admin's own machine on a LAN party).
    const address = byAddress === true ? await addressToBan(core, session, target, force) : null;
    const sharing = address === null ? [] : await onlineFrom(core, address, target.key);
    const now = core.clock.now();
    const ban = await core.admin.moderation.addBan({
      nameKey: target.key,
      name: target.name,
      address,
      reason: reason ?? null,
      createdAt: now,
      expiresAt: durationMs === null ? null : now + durationMs,
      createdBy: session.nick,
    });
    const until = ban.expiresAt === null ? 'for good' : `for ${describeDuration(durationMs!)}`;
    await removeTarget(
      core,
      target,
      reason === undefined ? { reason: 'banned' } : { reason: 'banned', message: reason },
      {
        code: 'banned',
        message: withReason(`You were banned by ${session.nick} ${until}`, reason),
      },
    );
    await core.admin.cases.recordTaken(
      { name: target.name, key: target.key },
      'ban',
      session.nick,
      ban.reason,
      ban.expiresAt,
    );
    await core.admin.audit(
      session,
      'ban',
      target.name,
      withReason(`${until}${ban.address ? ` (address ${ban.address})` : ''}`, reason),
    );
    return {
      nick: target.name,
      until: ban.expiresAt,
      address: ban.address,
      reason: ban.reason,
      // Others online from the banned address: they stay, but cannot log in again.
      sharing,
    };
  },
});

/** The address to ban for `target`; refuses the issuing admin's own unless forced. */
async function addressToBan(
  core: ChatCore,
  actor: Session,
  target: Target,
  force: boolean | undefined,
): Promise<string> {
  // Where it is connected from now (on this node or another), else where it last logged in.
  const raw =
    target.session?.link?.outlet.address ??
    (target.remote && (await core.nodes.whois(target.remote))?.address) ??
    (await core.store.moderation.lastAddress(target.key));
  if (raw === undefined)
    throw new ChatError(
      'invalid_target',
      `No address is known for ${target.name}: ban the name alone`,
    );
  const address = canonicalAddress(raw);
  const own = actor.link?.outlet.address;
  if (!force && own !== undefined && canonicalAddress(own) === address)
    throw new ChatError(
      'invalid_target',
      `${address} is your own address: banning it shuts you out too. Add "force" to do it anyway`,
      { address },
    );
  return address;
}

/**
 * Nicknames online from `address` on every node (each answers for its own sessions), the
 * banned user excepted.
 */
async function onlineFrom(core: ChatCore, address: string, except: string): Promise<string[]> {
  const names: string[] = [];
  for (const other of await core.nodes.who())
    if (
      other.nickKey !== except &&
      other.address !== null &&
      canonicalAddress(other.address) === address
    )
      names.push(other.nick);
  return names;
}

export const unbanCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'unban',
    aliases: [],
    bare: [],
    args: [{ name: 'nick', kind: 'name' }],
    summary: 'lift a ban',
    group: 'admin',
  },
  args: z.object({ nick: name }),
  async handle({ core, session }, { nick }) {
    const checked = checkName(nick);
    const key = checked.ok ? checked.key : undefined;
    const ban = core.admin.moderation.activeBans().find((entry) => entry.nameKey === key);
    if (!ban || key === undefined) {
      await findTarget(core, nick);
      throw new ChatError('no_change', `${nick} is not banned`);
    }
    await core.admin.moderation.removeBans(key);
    await core.admin.cases.recordTaken({ name: ban.name, key }, 'unban', session.nick, null);
    await core.admin.audit(session, 'unban', ban.name);
    return { nick: ban.name };
  },
});

export const bansCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'bans',
    aliases: [],
    bare: [],
    args: [],
    summary: 'bans in force, with reason and end',
    group: 'admin',
  },
  args: z.object({}),
  handle({ core }) {
    return {
      bans: core.admin.moderation.activeBans().map((ban) => ({
        nick: ban.name,
        address: ban.address,
        reason: ban.reason,
        since: ban.createdAt,
        until: ban.expiresAt,
        by: ban.createdBy,
      })),
    };
  },
});

export const suspendCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'suspend',
    aliases: [],
    bare: [],
    args: [{ name: 'nick', kind: 'name' }],
    summary: 'let a user read and quit, nothing else',
    group: 'admin',
  },
  args: z.object({ nick: name }),
  async handle({ core, session }, { nick }) {
    const target = await findTarget(core, nick);
    checkMayActOn(session, target, 'suspend');
    if (core.admin.moderation.isNameSuspended(target.key))
      throw new ChatError('no_change', `${target.name} is already suspended`);
    await core.admin.moderation.suspend({
      nameKey: target.key,
      name: target.name,
      createdAt: core.clock.now(),
      createdBy: session.nick,
      expiresAt: null,
    });
    core.publish(
      { kind: 'everyone' },
      { ev: 'suspension', nick: target.name, suspended: true, by: session.nick },
    );
    const subject = { name: target.name, key: target.key };
    await core.admin.cases.recordTaken(subject, 'suspend', session.nick, null);
    await core.admin.audit(session, 'suspend', target.name);
    const escalation = await core.admin.cases.afterSuspension(subject);
    return { nick: target.name, suspended: true, escalation: escalation ?? null };
  },
});

export const forgiveCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'forgive',
    aliases: [],
    bare: [],
    args: [{ name: 'nick', kind: 'name' }],
    summary: 'lift a suspension',
    group: 'admin',
  },
  args: z.object({ nick: name }),
  async handle({ core, session }, { nick }) {
    const target = await findTarget(core, nick);
    if (!core.admin.moderation.isNameSuspended(target.key))
      throw new ChatError('no_change', `${target.name} is not suspended`);
    await core.admin.moderation.forgive(target.key);
    core.publish(
      { kind: 'everyone' },
      { ev: 'suspension', nick: target.name, suspended: false, by: session.nick },
    );
    await core.admin.cases.recordTaken(
      { name: target.name, key: target.key },
      'forgive',
      session.nick,
      null,
    );
    await core.admin.audit(session, 'forgive', target.name);
    return { nick: target.name, suspended: false };
  },
});

function makeLockCommand(locked: boolean) {
  return defineCommand({
    phase: 'session',
    admin: true,
    info: {
      name: locked ? 'lock' : 'unlock',
      aliases: locked ? ['start'] : [],
      bare: [],
      args: [],
      summary: locked
        ? 'refuse new logins (sessions in progress and resumes go on)'
        : 'accept new logins again',
      group: 'admin',
    },
    args: z.object({}),
    async handle({ core, session }) {
      if (!(await core.admin.moderation.setLocked(locked)))
        throw new ChatError('no_change', `The server is already ${locked ? 'locked' : 'unlocked'}`);
      core.publish(
        { kind: 'everyone' },
        {
          ev: 'notice',
          text: locked
            ? 'The server is locked: no new logins for now'
            : 'The server is open to new logins again',
          from: session.nick,
        },
      );
      await core.admin.audit(session, locked ? 'lock' : 'unlock', null);
      return { locked };
    },
  });
}

export const lockCommand = makeLockCommand(true);
export const unlockCommand = makeLockCommand(false);

export const announceCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'announce',
    aliases: [],
    bare: [],
    args: [{ name: 'text', kind: 'text' }],
    summary: 'a server notice to everyone',
    group: 'admin',
  },
  args: z.object({ text: ruledText('message', z.string().max(2000)) }),
  async handle({ core, session }, { text }) {
    if (text.trim() === '') throw new ChatError('empty_message');
    core.publish({ kind: 'everyone' }, { ev: 'notice', text, from: session.nick });
    await core.admin.audit(session, 'announce', null, text);
    return {};
  },
});

export const monitorCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'monitor',
    aliases: [],
    bare: [],
    args: [{ name: 'state', kind: 'word', choices: ['on', 'off'] }],
    summary: 'see private messages (everyone is told while it is on)',
    group: 'admin',
  },
  args: z.object({ state: z.enum(['on', 'off']) }),
  async handle({ core, session }, { state }) {
    const on = state === 'on';
    if (!(await core.admin.moderation.setMonitoring(on)))
      throw new ChatError('no_change', `Monitoring is already ${state}`);
    // Nobody is monitored silently: everyone online is told now, and later logins at login.
    core.publish({ kind: 'everyone' }, { ev: 'monitor', on, by: session.nick });
    await core.admin.audit(session, `monitor ${state}`, null);
    return { monitor: on };
  },
});
