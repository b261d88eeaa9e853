import { roomOf } from './channels.js';
import { sendText } from './events.js';
import type { IrcClient } from './irc-client.js';
import { CHATHISTORY_MAX } from './isupport.js';
import { formatMessage, type IrcMessage } from './message.js';

interface HistoryRow {
  mid: number;
  ts: number;
  from: string;
  text: string;
}

/** What one `/history` request asks for (see the command in core/commands/room-info.ts). */
interface HistoryQuery {
  readonly count: number;
  /** Ids below this only. */
  readonly before?: number;
  /** Ids above this only. */
  readonly after?: number;
  /** With more in range than `count`, the oldest rather than the newest. */
  readonly oldest?: boolean;
}

const SUBCOMMANDS = new Set(['LATEST', 'BEFORE', 'AFTER', 'AROUND', 'BETWEEN', 'TARGETS']);

/**
 * draft/chathistory over Confab's `/history` of a room, with msgid references
 * (MSGREFTYPES=msgid; a msgid is Confab's message id). Every answer is one `chathistory`
 * batch, oldest message first, bounds excluded:
 * - LATEST `*` or `msgid=` N: the newest N (after the reference);
 * - BEFORE / AFTER `msgid=` N: the N nearest before / after it;
 * - BETWEEN `msgid=A msgid=B` N: strictly between, the N nearest to A;
 * - AROUND `msgid=` N: the message itself and those around it, N in all.
 * Timestamp references and private conversations are refused (docs/irc.md), and TARGETS
 * answers an empty batch: Confab keeps no private-message history to list.
 */
export async function handleChathistory(client: IrcClient, message: IrcMessage): Promise<void> {
  const params = message.params;
  const subcommand = (params[0] ?? '').toUpperCase();
  const fail = (code: string, text: string, ...context: string[]) =>
    client.out(
      formatMessage(client.serverName, 'FAIL', ['CHATHISTORY', code, ...context, text], [], true),
    );
  if (!SUBCOMMANDS.has(subcommand))
    return fail('INVALID_PARAMS', 'Unknown subcommand', params[0] || '*');
  const needed = subcommand === 'BETWEEN' || subcommand === 'TARGETS' ? 5 : 4;
  if (params.length < needed) return fail('NEED_MORE_PARAMS', 'Not enough parameters', subcommand);
  if (subcommand === 'TARGETS')
    return batch(client, 'draft/chathistory-targets', [], () => undefined);

  const target = params[1]!;
  const room = roomOf(target);
  if (room === undefined)
    return fail('INVALID_TARGET', 'Only channel history is kept', subcommand, target);
  const limitText = params[needed - 1]!;
  const limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1))
    return fail('INVALID_PARAMS', 'The limit must be a positive number', subcommand, limitText);
  const count = Math.min(limit, CHATHISTORY_MAX);

  const refs: Array<number | null> = [];
  for (const text of params.slice(2, needed - 1)) {
    const ref = reference(text, subcommand === 'LATEST');
    if (ref === undefined)
      return fail(
        'INVALID_PARAMS',
        'References are msgid=ID (MSGREFTYPES=msgid)',
        subcommand,
        text,
      );
    refs.push(ref);
  }
  const [first = null, second = null] = refs;
  let queries: HistoryQuery[];
  let keep: (row: HistoryRow) => boolean = () => true;
  switch (subcommand) {
    case 'LATEST':
      queries = [{ count }];
      // Only what came after the reference: the newest N, less any at or before it.
      if (first !== null) keep = (row) => row.mid > first;
      break;
    case 'BEFORE':
      queries = [{ count, before: first! }];
      break;
    case 'AFTER':
      queries = [{ count, after: first!, oldest: true }];
      break;
    case 'BETWEEN': {
      const low = Math.min(first!, second!);
      const high = Math.max(first!, second!);
      queries = [{ count, after: low, before: high, oldest: first! < second! }];
      break;
    }
    default: {
      // AROUND: the message itself and up to half before, the rest after.
      const after = Math.floor(count / 2);
      queries = [{ count: count - after, before: first! + 1 }];
      if (after > 0) queries.push({ count: after, after: first!, oldest: true });
    }
  }
  const rows: HistoryRow[] = [];
  for (const query of queries) {
    const reply = await client.request('history', { room, ...query });
    if (!reply.ok) {
      // A room that does not exist and one you are not in look the same (spec: never
      // reveal a target the client may not read).
      const code = reply.error.code === 'unknown_room' ? 'INVALID_TARGET' : 'MESSAGE_ERROR';
      return fail(code, reply.error.message, subcommand, target);
    }
    rows.push(...(reply.data as { messages: HistoryRow[] }).messages);
  }
  batch(client, 'chathistory', [target], (tags) => {
    for (const row of rows.filter(keep))
      sendText(
        client,
        [...tags, ...client.messageTags(row.ts, String(row.mid), null)],
        row.from,
        'PRIVMSG',
        target,
        row.text,
      );
  });
}

/** `msgid=N` as N; `*` as null where allowed (LATEST); anything else undefined. */
function reference(text: string, starAllowed: boolean): number | null | undefined {
  if (text === '*') return starAllowed ? null : undefined;
  const match = /^msgid=(\d{1,15})$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

function batch(
  client: IrcClient,
  type: string,
  params: string[],
  body: (tags: Array<readonly [string, string]>) => void,
): void {
  if (!client.has('batch')) return body([]);
  const id = client.batchId();
  client.out(formatMessage(client.serverName, 'BATCH', [`+${id}`, type, ...params]));
  body([['batch', id]]);
  client.out(formatMessage(client.serverName, 'BATCH', [`-${id}`]));
}
