import { z } from 'zod';
import { readyData } from '../accounts/login.js';
import { ChatError } from '../errors.js';
import { defineCommand } from './command.js';

/**
 * Instead of `nick`: takes back a session whose connection was lost, with the token the
 * last `nick` or `resume` reply gave. Clients send it by themselves after a reconnect.
 */
export const resumeCommand = defineCommand({
  phase: 'login',
  info: {
    name: 'resume',
    aliases: [],
    bare: [],
    args: [{ name: 'token', kind: 'word' }],
    summary: 'take back your session after a lost connection (clients do this for you)',
    group: 'session',
  },
  args: z.object({
    token: z.string().max(200),
    lastEventId: z.number().int().min(0).optional(),
  }),
  handle({ core, link, after }, { token, lastEventId }) {
    // Not a new login: a server lock or lockout does not refuse it, shutting down does.
    if (core.isShuttingDown) throw new ChatError('shutting_down');
    const session = core.resume.redeem(token);
    if (!session) throw new ChatError('resume_failed');
    const data = readyData(core, session);
    // After the reply: first the missed events, then live ones.
    after(() => core.resume.attach(session, link, lastEventId));
    return { ...data, resumed: true };
  },
});
