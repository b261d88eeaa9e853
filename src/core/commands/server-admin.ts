import { ruledText } from '../text-rules.js';
import { z } from 'zod';
import {
  PARAMETER_KEYS,
  PARAMETERS,
  isParameterKey,
  parseParameter,
  type ParameterKey,
} from '../../config/parameters.js';
import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import { defineCommand } from './command.js';

/** The longest countdown an admin may set: a day. */
const MAX_SHUTDOWN_SECONDS = 86_400;

export const shutdownCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'shutdown',
    aliases: [],
    bare: [],
    args: [
      { name: 'action', kind: 'word', choices: ['cancel'], optional: true },
      { name: 'seconds', kind: 'integer', optional: true },
      { name: 'reason', kind: 'text', optional: true },
    ],
    summary: 'stop the server after a countdown everyone sees; /shutdown cancel stops it',
    group: 'admin',
  },
  args: z.object({
    action: z.literal('cancel').optional(),
    seconds: z.number().int().min(0).max(MAX_SHUTDOWN_SECONDS).optional(),
    reason: ruledText('reason', z.string().max(500)).optional(),
  }),
  async handle({ core, session }, { action, seconds, reason }) {
    if (action === 'cancel') {
      if (!core.admin.countdown.cancel(session.nick))
        throw new ChatError('no_change', 'No shutdown is under way');
      await core.admin.audit(session, 'shutdown cancel', null);
      return { cancelled: true };
    }
    const delay = seconds ?? core.params['shutdown.noticeSeconds'];
    await core.admin.audit(session, 'shutdown', null, `in ${delay}s${reason ? `: ${reason}` : ''}`);
    core.admin.countdown.start(delay, reason);
    return { seconds: delay };
  },
});

function describeParameter(core: ChatCore, key: ParameterKey) {
  const spec = PARAMETERS[key];
  return {
    key,
    value: core.params[key],
    source: core.config.sourceOf(key),
    default: spec.default,
    kind: spec.kind,
    ...('min' in spec && { min: spec.min }),
    ...('max' in spec && { max: spec.max }),
    description: spec.description,
  };
}

function parameterKey(key: string): ParameterKey {
  if (!isParameterKey(key))
    throw new ChatError('unknown_parameter', `There is no parameter "${key}": see /config`, {
      key,
    });
  return key;
}

export const configCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'config',
    aliases: [],
    bare: [],
    args: [
      { name: 'action', kind: 'word', choices: ['reset'], optional: true },
      { name: 'key', kind: 'word', optional: true },
      { name: 'value', kind: 'text', optional: true },
    ],
    summary: 'show parameters and where each comes from; change one live (kept across restarts)',
    group: 'admin',
  },
  args: z.object({
    action: z.literal('reset').optional(),
    key: z.string().max(100).optional(),
    value: z.union([z.string().max(100), z.number(), z.boolean()]).optional(),
  }),
  async handle({ core, session }, { action, key, value }) {
    if (key === undefined) {
      if (action === 'reset') throw new ChatError('invalid_args', 'Usage: /config reset KEY');
      return { parameters: PARAMETER_KEYS.map((each) => describeParameter(core, each)) };
    }
    const checkedKey = parameterKey(key);
    if (action === 'reset') {
      if (core.config.liveValues()[checkedKey] === undefined)
        throw new ChatError('no_change', `${checkedKey} has no live value to reset`);
      await core.store.settings.removeLive(checkedKey);
      core.config.resetLive(checkedKey);
      await core.nodes.invalidate({ what: 'config', key: checkedKey });
      await core.admin.audit(session, 'config reset', checkedKey);
      return describeParameter(core, checkedKey);
    }
    if (value === undefined) return describeParameter(core, checkedKey);
    const raw = typeof value === 'string' ? value.trim() : value;
    const parsed = parseParameter(checkedKey, raw);
    if (!parsed.ok) throw new ChatError('invalid_value', parsed.message, { key: checkedKey });
    // Stored first: a change that could not be kept is not applied either.
    await core.store.settings.setLive(checkedKey, String(parsed.value));
    core.config.setLive(checkedKey, parsed.value);
    await core.nodes.invalidate({ what: 'config', key: checkedKey });
    await core.admin.audit(session, 'config', checkedKey, String(parsed.value));
    return describeParameter(core, checkedKey);
  },
});

export const usersCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'users',
    aliases: [],
    bare: [],
    args: [],
    summary: 'all accounts with role, creation and last login (never passwords)',
    group: 'admin',
  },
  args: z.object({}),
  async handle({ core }) {
    const accounts = await core.store.accounts.list();
    // Online on any node.
    const online = new Set(
      (await core.directory.list()).map((entry) => entry.accountId).filter((id) => id !== null),
    );
    return {
      accounts: accounts.map((account) => ({
        name: account.name,
        role: account.role,
        createdAt: account.createdAt,
        lastSeenAt: account.lastSeenAt,
        online: online.has(account.id),
      })),
    };
  },
});
