import { z } from 'zod';
import type { ChatCore } from '../chat-core.js';
import { findOnlineTarget } from '../admin/targets.js';
import type { Session } from '../session.js';
import { defineCommand } from './command.js';

/** Sets a session's flood exemption on whichever node holds it. */
async function setExempt(core: ChatCore, admin: Session, nick: string, exempt: boolean) {
  const target = await findOnlineTarget(core, nick);
  if (target.session) core.requestGuard.setExempt(target.session, exempt);
  else if (target.remote)
    core.nodes.control(target.remote, { type: 'exempt', session: target.remote.session, exempt });
  const id = target.session?.id ?? target.remote?.session;
  core.logger.info(
    {
      event: exempt ? 'flood_exempt' : 'flood_unexempt',
      session: id,
      nick: target.name,
      by: admin.nick,
    },
    exempt ? 'flood control lifted' : 'flood control restored',
  );
  return { nick: target.name, exempt };
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
    return setExempt(core, admin, nick, true);
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
    return setExempt(core, admin, nick, false);
  },
});
