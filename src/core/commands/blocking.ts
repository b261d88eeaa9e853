import { z } from 'zod';
import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import { checkName } from '../names.js';
import { defineCommand } from './command.js';

function checkTarget(raw: string): { name: string; key: string } {
  const checked = checkName(raw);
  if (!checked.ok) throw new ChatError('unknown_user', `No such user: ${raw}`, { unknown: [raw] });
  return checked;
}

/** The spelling of someone online or an account, or `unknown_user`. */
async function existingUser(core: ChatCore, raw: string, key: string): Promise<string> {
  const online = core.findSession(key) ?? (await core.findRemote(key));
  if (online) return online.nick;
  const account = await core.store.accounts.findByKey(key);
  if (account) return account.name;
  throw new ChatError('unknown_user', `No such user: ${raw}`, { unknown: [raw] });
}

export const blockCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'block',
    aliases: [],
    bare: ['block'],
    args: [{ name: 'name', kind: 'name' }],
    summary: "stop seeing someone's messages (they are not told)",
    group: 'blocking',
  },
  args: z.object({ name: z.string() }),
  async handle({ core, session }, args) {
    const { key } = checkTarget(args.name);
    if (key === session.nickKey) throw new ChatError('cannot_block_self');
    const name = await existingUser(core, args.name, key);
    await core.blocks.block(session, key, name, core.clock.now());
    if (session.account)
      await core.nodes.invalidate({ what: 'blocks', accountId: session.account.id });
    return { blocked: name };
  },
});

export const unblockCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'unblock',
    aliases: [],
    bare: ['unblock'],
    args: [{ name: 'name', kind: 'name' }],
    summary: "see someone's messages again",
    group: 'blocking',
  },
  args: z.object({ name: z.string() }),
  async handle({ core, session }, args) {
    const { key } = checkTarget(args.name);
    const name = session.blocks.get(key) ?? args.name;
    await core.blocks.unblock(session, key, name);
    if (session.account)
      await core.nodes.invalidate({ what: 'blocks', accountId: session.account.id });
    return { unblocked: name };
  },
});

export const blockedCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'blocked',
    aliases: [],
    bare: [],
    args: [],
    summary: 'the people you block',
    group: 'blocking',
  },
  args: z.object({}),
  handle({ session }) {
    return { blocked: [...session.blocks.values()].sort((a, b) => a.localeCompare(b)) };
  },
});
