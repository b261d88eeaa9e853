import { z } from 'zod';
import { ruledText } from '../text-rules.js';
import type { ChatCore } from '../chat-core.js';
import type { SessionSummary } from '../../bus/bus.js';
import type { Session } from '../session.js';
import { defineCommand } from './command.js';
import { AWAY_MAX_LENGTH } from '../../protocol/limits.js';

/** No input for this long shows a session as idle in `/who`. */
export const IDLE_AFTER_MS = 5 * 60 * 1000;

export type PresenceStatus = 'active' | 'idle' | 'away' | 'suspended';

/** How `/who` and `/whois` show a session online, on this node or another. */
export function describe(core: ChatCore, session: SessionSummary) {
  const now = core.clock.now();
  const idleMs = now - session.lastInputAt;
  const status: PresenceStatus = core.admin.moderation.isNameSuspended(session.nickKey)
    ? 'suspended'
    : !session.connected || session.away !== null
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
    since: session.loginAt,
    idleSeconds: Math.floor(idleMs / 1000),
    ...(session.away !== null && { awayMessage: session.away }),
  };
}

export const awayCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'away',
    aliases: [],
    bare: [],
    args: [{ name: 'message', kind: 'text', optional: true }],
    summary: 'say you are away (shown in /who and /whois); without a message, back again',
    group: 'presence',
  },
  args: z.object({ message: ruledText('reason', z.string().max(AWAY_MAX_LENGTH)).optional() }),
  handle({ core, session }, { message }) {
    const away = message === undefined || message.trim() === '' ? null : message.trim();
    if (away !== session.awayMessage) {
      session.awayMessage = away;
      // Everyone who hears of this user's logins hears of it (IRC's away-notify too).
      core.publish(core.presenceAudience(session), {
        ev: 'away',
        nick: session.nick,
        message: away,
      });
    }
    return { away };
  },
});

/** Everyone online on every node (but `except`), by nickname. */
async function listOnline(core: ChatCore, except?: Session) {
  const users = [];
  for (const session of await core.nodes.who())
    if (session.id !== except?.id) users.push(describe(core, session));
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
