import { z } from 'zod';
import { readyData } from '../accounts/login.js';
import { ChatError } from '../errors.js';
import { takeOverElsewhere } from '../resume/resume-elsewhere.js';
import { defineCommand } from './command.js';

/**
 * Instead of `nick`: takes back a session whose connection was lost, with the token the
 * last `nick` or `resume` reply gave. Clients send it by themselves after a reconnect. A
 * token this node did not issue belongs to a session of another node of the cluster,
 * which this node takes over (`resume-elsewhere.ts`).
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
    /** Newest message id the client has: where a log rebuilt from the store starts. */
    seenMid: z.number().int().min(0).optional(),
  }),
  async handle({ core, link, after }, { token, lastEventId, seenMid }) {
    // Not a new login: a server lock or lockout does not refuse it, shutting down does.
    if (core.isShuttingDown) throw new ChatError('shutting_down');
    const session = core.resume.redeem(token);
    if (session) {
      const data = readyData(core, session);
      // After the reply: first the missed events, then live ones.
      after(() => core.resume.attach(session, link, lastEventId));
      return { ...data, resumed: true };
    }
    const moved = await takeOverElsewhere(core, link, token, lastEventId, seenMid);
    if (!moved) throw new ChatError('resume_failed');
    const data = readyData(core, moved.session);
    after(() => moved.attach());
    return { ...data, resumed: true };
  },
});
