import { z } from 'zod';
import type { ChatCore } from '../chat-core.js';
import type { Session } from '../session.js';
import { defineCommand } from './command.js';

/** No input for this long shows a session as idle in `/who`. */
export const IDLE_AFTER_MS = 5 * 60 * 1000;

export type PresenceStatus = 'active' | 'idle' | 'away' | 'suspended';

export function describe(core: ChatCore, session: Session) {
  const now = core.clock.now();
  const idleMs = now - session.lastInputAt;
  const status: PresenceStatus = core.admin.moderation.isSuspended(session)
    ? 'suspended'
    : session.link === null
      ? 'away'
      : idleMs >= IDLE_AFTER_MS
        ? 'idle'
        : 'active';
  return {
    nick: session.nick,
    session: session.id,
    status,
    role: session.account?.role ?? 'guest',
    account: session.account !== null,
    since: session.connectedAt,
    idleSeconds: Math.floor(idleMs / 1000),
  };
}

function listOnline(core: ChatCore, except?: Session) {
  const users = [];
  for (const session of core.onlineSessions())
    if (session !== except) users.push(describe(core, session));
  users.sort((a, b) => a.nick.localeCompare(b.nick));
  return { users };
}

export const whoCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'who',
    aliases: ['list'],
    bare: [],
    args: [],
    summary: 'everyone online, with status and session id',
    group: 'presence',
  },
  args: z.object({}),
  handle({ core }) {
    return listOnline(core);
  },
});

export const whoelseCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'whoelse',
    aliases: [],
    bare: ['whoelse'],
    args: [],
    summary: 'everyone online but you',
    group: 'presence',
  },
  args: z.object({}),
  handle({ core, session }) {
    return listOnline(core, session);
  },
});
