import { z } from 'zod';
import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import { checkName } from '../names.js';
import type { Session } from '../session.js';
import { defineCommand } from './command.js';

function onlineSession(core: ChatCore, nick: string): Session {
  const checked = checkName(nick);
  const session = checked.ok ? core.findSession(checked.key) : undefined;
  if (!session) throw new ChatError('unknown_user', `No such user online: ${nick}`);
  return session;
}

/** Admin: lift flood control for one session (a bot, a bridge, a load test). */
export const exemptCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'exempt',
    aliases: [],
    bare: [],
    args: [{ name: 'nick', kind: 'name' }],
    summary: 'admin: lift flood control for a user online (until they leave)',
    group: 'admin',
  },
  args: z.object({ nick: z.string() }),
  handle({ core, session: admin }, { nick }) {
    const session = onlineSession(core, nick);
    core.requestGuard.setExempt(session, true);
    core.logger.info(
      { event: 'flood_exempt', session: session.id, nick: session.nick, by: admin.nick },
      'flood control lifted',
    );
    return { nick: session.nick, exempt: true };
  },
});

export const unexemptCommand = defineCommand({
  phase: 'session',
  admin: true,
  info: {
    name: 'unexempt',
    aliases: [],
    bare: [],
    args: [{ name: 'nick', kind: 'name' }],
    summary: 'admin: put flood control back on a user',
    group: 'admin',
  },
  args: z.object({ nick: z.string() }),
  handle({ core, session: admin }, { nick }) {
    const session = onlineSession(core, nick);
    core.requestGuard.setExempt(session, false);
    core.logger.info(
      { event: 'flood_unexempt', session: session.id, nick: session.nick, by: admin.nick },
      'flood control restored',
    );
    return { nick: session.nick, exempt: false };
  },
});
