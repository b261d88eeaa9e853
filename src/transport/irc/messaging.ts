import { nameKey } from '../../protocol/names.js';
import { roomOf } from './channels.js';
import { channelOf, sendText } from './events.js';
import type { IrcClient } from './irc-client.js';
import { MAX_MESSAGE_TARGETS } from './isupport.js';
import type { IrcMessage } from './message.js';
import { ERR, RPL } from './numerics.js';
import { handleServiceMessage, SERVICE_NICK } from './service.js';
import { textFromIrc } from './text.js';

/**
 * PRIVMSG and NOTICE, to channels (`say`) and nicknames (`msg`), up to TARGMAX targets.
 * NOTICE never gets an automatic reply (RFC 2812): its errors are not reported.
 */
export async function handleMessage(client: IrcClient, message: IrcMessage): Promise<void> {
  const command = message.command as 'PRIVMSG' | 'NOTICE';
  const quiet = command === 'NOTICE';
  const [targets, rawText] = message.params;
  if (targets === undefined || targets === '') {
    if (!quiet) client.numeric(ERR.NORECIPIENT, `No recipient given (${command})`);
    return;
  }
  if (rawText === undefined || rawText === '') {
    if (!quiet) client.numeric(ERR.NOTEXTTOSEND, 'No text to send');
    return;
  }
  const list = targets.split(',').filter((target) => target !== '');
  if (list.length > MAX_MESSAGE_TARGETS) {
    if (!quiet)
      client.numeric(
        ERR.TOOMANYTARGETS,
        targets,
        `Too many targets: at most ${MAX_MESSAGE_TARGETS}`,
      );
    return;
  }
  const session = client.link.session!;
  const text = textFromIrc(rawText, session.nick);
  // A CTCP request other than ACTION has no Confab meaning.
  if (text === null) return;
  const sent: Array<Promise<void>> = [];
  for (const target of list) {
    if (nameKey(target) === nameKey(SERVICE_NICK)) {
      sent.push(
        handleServiceMessage(client, rawText, (line) =>
          client.out(
            `:${client.mask(SERVICE_NICK)} NOTICE ${client.nick} :${line.replace(/[\r\n\0]/g, ' ')}`,
          ),
        ),
      );
      continue;
    }
    const room = roomOf(target);
    const reply =
      room === undefined
        ? client.request('msg', { to: [target], text })
        : client.request('say', { room, text });
    sent.push(
      reply.then((answer) => {
        if (answer.ok) {
          if (client.has('echo-message')) {
            const { mid, ts } = answer.data as { mid: number; ts: number };
            const tags = client.messageTags(ts, String(mid), session.account?.name);
            sendText(
              client,
              tags,
              session.nick,
              command,
              room === undefined ? target : channelOf(room),
              text,
            );
          }
          if (room === undefined) reportStored(client, target, answer.data);
          return;
        }
        if (quiet) return;
        const code = answer.error.code;
        if (room !== undefined && code === 'unknown_room') {
          const exists = client.core.rooms.get(nameKey(room));
          if (exists)
            client.numeric(ERR.CANNOTSENDTOCHAN, target, 'Cannot send to channel (join it first)');
          else client.numeric(ERR.NOSUCHCHANNEL, target, 'No such channel');
          return;
        }
        if (code === 'unknown_user') {
          client.numeric(ERR.NOSUCHNICK, target, 'No such nick/channel');
          return;
        }
        client.replyError(command, answer.error, target);
      }),
    );
  }
  // Messages pipeline in the core; a labeled command waits for all its answers.
  if (message.tags.has('label')) await Promise.all(sent);
  else
    void Promise.all(sent).catch((error: unknown) => {
      client.failed(error, message);
    });
}

/** A message stored for an offline account: say so, as RPL_AWAY does for an absent user. */
function reportStored(client: IrcClient, target: string, data: object): void {
  const stored = (data as { stored?: string[] }).stored ?? [];
  if (stored.length > 0)
    client.numeric(RPL.AWAY, target, 'Offline: your message is kept for their next login');
  const away = client.awayOf(target);
  if (away !== undefined && stored.length === 0) client.numeric(RPL.AWAY, target, away);
}
