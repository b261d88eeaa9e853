import { parseInput } from '../../client/input-parser.js';
import { formatReply } from '../../client/format.js';
import type { ChatEvent } from '../../protocol/events.js';
import type { IrcClient } from './irc-client.js';
import { formatHelp } from '../../client/format.js';

/**
 * `Confab`: a service user for what IRC has no command for (inbox, blocking, files,
 * moderation, accounts). `/msg Confab inbox` is typed as `/inbox` would be in the terminal
 * client: the same parser, over the catalogue the core announces, then the same command
 * table; its reply is written as the terminal client writes it, in NOTICEs.
 */
export const SERVICE_NICK = 'Confab';

/** Commands IRC does itself (PRIVMSG, NICK, QUIT, PING) or that need the Confab client. */
const HIDDEN_FROM_IRC = new Set(['say', 'nick', 'quit', 'ping', 'resume']);

/** Arguments a terminal client prompts for; here they follow the command on the line. */
function takeSecrets(
  line: string,
  secrets: number,
): { line: string; values: string[] } | undefined {
  const words = line.trim().split(/\s+/);
  if (words.length < secrets + 1) return undefined;
  return { line: words.slice(0, words.length - secrets).join(' '), values: words.slice(-secrets) };
}

export async function handleServiceMessage(
  client: IrcClient,
  text: string,
  notice: (text: string) => void,
): Promise<void> {
  const commands = client.core.commands();
  const typed = text.trim().replace(/^[/!]/, '');
  const word = (typed.split(/\s+/)[0] ?? '').toLowerCase();
  if (word === '' || word === 'help' || word === 'menu') {
    notice('Confab commands (/msg Confab COMMAND …); secrets (passwords) follow the command:');
    const isAdmin = client.link.session?.isAdmin === true;
    const useful = commands.filter(
      (command) =>
        !HIDDEN_FROM_IRC.has(command.name) &&
        (isAdmin || !command.admin) &&
        !command.args.some((arg) => arg.kind === 'path'),
    );
    for (const line of formatHelp(useful, [], { admin: isAdmin })) notice(line);
    return;
  }
  const info = commands.find((command) => command.name === word || command.aliases.includes(word));
  const prompted =
    info?.args.filter((arg) => arg.kind === 'secret' || arg.kind === 'confirm') ?? [];
  let line = typed;
  let values: string[] = [];
  if (prompted.length > 0) {
    const split = takeSecrets(typed, prompted.length);
    if (!split) {
      notice(
        `Usage: ${word} … ${prompted.map((arg) => (arg.kind === 'confirm' ? 'yes' : arg.name.toUpperCase())).join(' ')}`,
      );
      return;
    }
    ({ line, values } = split);
  }
  const parsed = parseInput(`/${line}`, { commands, currentRoom: 'lobby' });
  if (parsed.kind === 'empty') return;
  if (parsed.kind === 'error') return notice(parsed.message);
  if (parsed.kind === 'local') return notice(`Unknown command: ${parsed.name}`);
  const args: Record<string, unknown> = { ...parsed.args };
  parsed.prompts.forEach((arg, index) => {
    const value = values[index] ?? '';
    args[arg.name] = arg.kind === 'confirm' ? /^(y|yes)$/i.test(value) : value;
  });
  const reply = await client.request(parsed.command.name, args);
  if (!reply.ok) return notice(`${reply.error.message} (${reply.error.code})`);
  const lines = formatReply(parsed.command.name, reply.data as Record<string, unknown>);
  for (const out of lines.length > 0 ? lines : ['ok']) notice(out);
}

/** A file event as a notice saying how to fetch what waits. */
export function describeFile(
  event: Extract<ChatEvent, { ev: 'file' | 'shared' | 'filegone' }>,
): string {
  switch (event.ev) {
    case 'file':
      return (
        `${event.from} sent you a file: ${event.name} (${event.size} bytes, id ${event.file}). ` +
        `IRC cannot carry it: fetch it with the web client or \`confab connect\` (/get ${event.from} ${event.file}), ` +
        `or refuse it with /msg ${SERVICE_NICK} decline ${event.from} ${event.file}`
      );
    case 'shared':
      return (
        `${event.from} shared a file: ${event.name} (${event.size} bytes, id ${event.file}). ` +
        `Fetch it with the web client or \`confab connect\` (/download ${event.file})`
      );
    case 'filegone':
      return `File ${event.name} (${event.file}) is gone: ${event.reason}${event.by ? ` by ${event.by}` : ''}`;
  }
}
