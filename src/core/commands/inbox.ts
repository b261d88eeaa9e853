import { z } from 'zod';
import { ChatError } from '../errors.js';
import { nameKey } from '../names.js';
import { defineCommand } from './command.js';

/** `/inbox all` shows at most this many of the newest messages. */
export const INBOX_ALL_LIMIT = 200;

/**
 * The inbox of an account. A private message is *read* once it has been listed here, or
 * when it reached its recipient live (online at the time). A message stored while the
 * account was offline is *delivered* at the next login (once, marked `missed`) and stays
 * unread until `/inbox` lists it: the login shows it, the inbox keeps it until looked at.
 */
export const inboxCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'inbox',
    aliases: [],
    bare: [],
    args: [{ name: 'which', kind: 'word', optional: true, choices: ['all'] }],
    summary: 'private messages not yet read, oldest first (all: the read ones too)',
    group: 'messaging',
  },
  args: z.object({ which: z.enum(['all']).optional() }),
  async handle({ core, session }, { which }) {
    const account = session.account;
    if (!account)
      throw new ChatError(
        'account_required',
        'Only accounts have an inbox: messages to a guest arrive live. /register first',
      );
    const all = which === 'all';
    const entries = await core.store.inbox.list(account.id, {
      all,
      limit: all ? INBOX_ALL_LIMIT : core.params['inbox.maxUnread'],
    });
    const unreadIds = entries.filter((entry) => !entry.read).map((entry) => entry.id);
    await core.store.inbox.markRead(account.id, unreadIds, core.clock.now());
    const messages = entries
      .filter((entry) => !session.blocks.has(nameKey(entry.sender)))
      .map((entry) => ({
        mid: entry.id,
        ts: entry.ts,
        from: entry.sender,
        to: entry.to,
        text: entry.text,
        read: entry.read,
      }));
    return { messages, unread: unreadIds.length };
  },
});
