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

/**
 * draft/chathistory over Confab's `/history` (room messages, newest first from a point):
 * LATEST and BEFORE, with msgid references (MSGREFTYPES=msgid). AFTER, AROUND, BETWEEN,
 * timestamp references and private conversations are refused (docs/irc.md).
 */
export async function handleChathistory(client: IrcClient, message: IrcMessage): Promise<void> {
  const [sub = '', target = '', ref = '', limitText = ''] = message.params;
  const subcommand = sub.toUpperCase();
  const fail = (code: string, text: string, ...context: string[]) =>
    client.out(
      formatMessage(client.serverName, 'FAIL', ['CHATHISTORY', code, ...context, text], [], true),
    );
  if (subcommand === 'TARGETS') {
    // Private conversations have no history here: the list is empty.
    return batch(client, 'draft/chathistory-targets', [], () => undefined);
  }
  if (subcommand !== 'LATEST' && subcommand !== 'BEFORE') {
    if (['AFTER', 'AROUND', 'BETWEEN'].includes(subcommand))
      return fail(
        'INVALID_PARAMS',
        `${subcommand} is not supported: use LATEST or BEFORE`,
        subcommand,
      );
    return fail('INVALID_PARAMS', 'Unknown subcommand', sub || '*');
  }
  const room = roomOf(target);
  if (room === undefined)
    return fail('INVALID_TARGET', 'Only channel history is kept', subcommand, target || '*');
  const limit = Number.parseInt(limitText, 10);
  if (!Number.isInteger(limit) || limit < 1)
    return fail(
      'INVALID_PARAMS',
      'The limit must be a positive number',
      subcommand,
      limitText || '*',
    );
  const count = Math.min(limit, CHATHISTORY_MAX);
  let reference: number | undefined;
  if (ref !== '*') {
    const match = /^msgid=(\d+)$/.exec(ref);
    if (!match)
      return fail(
        'INVALID_PARAMS',
        'References are msgid=ID (MSGREFTYPES=msgid)',
        subcommand,
        ref || '*',
      );
    reference = Number(match[1]);
  } else if (subcommand === 'BEFORE')
    return fail('INVALID_PARAMS', 'BEFORE needs a msgid reference', subcommand, ref);
  const args = subcommand === 'BEFORE' ? { room, count, before: reference } : { room, count };
  const reply = await client.request('history', args);
  if (!reply.ok) {
    const code = reply.error.code === 'unknown_room' ? 'INVALID_TARGET' : 'MESSAGE_ERROR';
    return fail(code, reply.error.message, subcommand, target);
  }
  let rows = (reply.data as { messages: HistoryRow[] }).messages;
  // LATEST with a reference: only what came after it.
  if (subcommand === 'LATEST' && reference !== undefined)
    rows = rows.filter((row) => row.mid > reference);
  batch(client, 'chathistory', [target], (tags) => {
    for (const row of rows)
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
