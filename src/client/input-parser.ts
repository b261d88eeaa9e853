import { usageOf, type ArgInfo, type CommandInfo } from '../protocol/catalog.js';

/**
 * Turns a line a person typed into a request, using the catalogue the server announced.
 * Shared by the line client, the full-screen client and the server console, so a command
 * is spelled the same everywhere.
 */
export type ParsedInput =
  | { readonly kind: 'empty' }
  | {
      readonly kind: 'request';
      readonly command: CommandInfo;
      readonly args: Record<string, unknown>;
      /** Secret and confirmation arguments the client must prompt for, in order. */
      readonly prompts: readonly ArgInfo[];
    }
  | { readonly kind: 'local'; readonly name: string; readonly rest: string }
  | { readonly kind: 'error'; readonly message: string };

export interface InputContext {
  readonly commands: readonly CommandInfo[];
  /** The room plain text goes to. */
  readonly currentRoom: string;
  /** Commands the client handles itself (`help`, `menu`, `switch`, …). */
  readonly localCommands?: readonly string[];
  /** Whether the current room is owned by this user (`exit` closes it). */
  readonly ownsCurrentRoom?: boolean;
  /**
   * Whether a user of this name is online, as far as this client knows. A seed's bare form
   * naming someone (`message bob hi`, `block bob`) is a command only when they are; without
   * this, such lines are always chat.
   */
  readonly isOnline?: (name: string) => boolean;
}

const LOBBY = 'lobby';

export function findCommand(
  commands: readonly CommandInfo[],
  word: string,
): CommandInfo | undefined {
  const name = word.toLowerCase();
  return commands.find((command) => command.name === name || command.aliases.includes(name));
}

export function parseInput(line: string, context: InputContext): ParsedInput {
  const text = line.replace(/\r?\n$/, '');
  if (text.trim() === '') return { kind: 'empty' };
  const first = text[0];
  if ((first === '/' || first === '!') && text[1] !== first)
    return parseCommand(text.slice(1), context, true);
  // `//text` and `!!text` send text that starts with the sign.
  if ((first === '/' || first === '!') && text[1] === first) return say(context, text.slice(1));
  if (text.startsWith('@')) return parseMentions(text, context);
  const word = (/^\S+/.exec(text)?.[0] ?? '').toLowerCase();
  const whole = text.trim().toLowerCase();
  // Seed-style words inside a room: `bye` leaves it, `exit` closes it when it is yours.
  if (context.currentRoom !== LOBBY && whole === 'bye' && findCommand(context.commands, 'leave'))
    return parseCommand('leave', context, true);
  if (
    context.currentRoom !== LOBBY &&
    context.ownsCurrentRoom &&
    whole === 'exit' &&
    findCommand(context.commands, 'close')
  )
    return parseCommand('close', context, true);
  for (const command of context.commands) {
    if (command.hidden || !command.bare.includes(word)) continue;
    const parsed = parseBare(command, text.trim().slice(word.length), context);
    if (parsed) return parsed;
  }
  return say(context, text);
}

/**
 * A seed's bare form (`quit`, `whoelse`, `message NAME TEXT`) is a command only when the
 * whole line has exactly its shape: every required argument there, no optional text (so
 * "quit smoking is hard" stays a sentence), and every name a user online. Anything else is
 * chat: a sentence is never eaten.
 */
function parseBare(
  command: CommandInfo,
  rest: string,
  context: InputContext,
): ParsedInput | undefined {
  // `fileget` alone lists files; `fileget NAME FILE` fetches one: optional words may be
  // given, but only all together.
  const typed = command.args.filter((arg) => arg.kind !== 'secret' && arg.kind !== 'confirm');
  const required = typed.filter((arg) => !arg.optional);
  const words = typed.filter((arg) => arg.kind !== 'text');
  // Free text with nobody named (`broadcast TEXT`) cannot be told from a sentence.
  const names = (arg: ArgInfo) => arg.kind === 'name' || arg.kind === 'names';
  if (required.some((arg) => arg.kind === 'text') && !required.some(names)) return undefined;
  const shapes = [required, words.length > required.length ? words : undefined];
  for (const shape of shapes) {
    if (!shape) continue;
    const args = bareArgs(shape, rest, context);
    if (!args) continue;
    const prompts = command.args.filter((arg) => arg.kind === 'secret' || arg.kind === 'confirm');
    if (args.room === undefined && actsOnCurrentRoom(command)) args.room = context.currentRoom;
    return { kind: 'request', command, args, prompts };
  }
  return undefined;
}

function bareArgs(
  shape: readonly ArgInfo[],
  rest: string,
  context: InputContext,
): Record<string, unknown> | undefined {
  const args: Record<string, unknown> = {};
  let remaining = rest.trim();
  const online = (name: string) => context.isOnline?.(name) === true;
  for (const arg of shape) {
    if (arg.kind === 'text') {
      if (remaining === '') return undefined;
      args[arg.name] = remaining;
      remaining = '';
      continue;
    }
    // A path may be quoted (`file bob "my notes.txt"`), as in the `/` forms.
    const token = nextToken(remaining);
    if (!token) return undefined;
    const value = token.value;
    remaining = token.rest;
    if (arg.kind === 'name') {
      if (!online(value)) return undefined;
      args[arg.name] = value;
    } else if (arg.kind === 'names') {
      const names = value.split(',').filter(Boolean);
      if (names.length === 0 || !names.every(online)) return undefined;
      args[arg.name] = names;
    } else if (arg.kind === 'integer') {
      if (!/^\d+$/.test(value)) return undefined;
      args[arg.name] = Number(value);
    } else if (arg.choices) {
      if (!arg.choices.includes(value.toLowerCase())) return undefined;
      args[arg.name] = value.toLowerCase();
    } else args[arg.name] = value;
  }
  return remaining === '' ? args : undefined;
}

function say(context: InputContext, text: string): ParsedInput {
  const command = findCommand(context.commands, 'say');
  if (!command) return { kind: 'error', message: 'This server does not take messages' };
  return { kind: 'request', command, args: { room: context.currentRoom, text }, prompts: [] };
}

/** `@alice @bob hello` is a private message to alice and bob. */
function parseMentions(text: string, context: InputContext): ParsedInput {
  const names: string[] = [];
  let rest = text;
  for (;;) {
    const match = /^@(\S+)\s*/.exec(rest);
    if (!match) break;
    names.push(...match[1]!.split(',').filter(Boolean));
    rest = rest.slice(match[0].length);
  }
  const command = findCommand(context.commands, 'msg');
  if (!command) return { kind: 'error', message: 'This server has no private messages' };
  if (rest.trim() === '') return { kind: 'error', message: 'Usage: @NAME [@NAME…] TEXT' };
  return { kind: 'request', command, args: { to: names, text: rest }, prompts: [] };
}

function parseCommand(body: string, context: InputContext, slashed: boolean): ParsedInput {
  const match = /^(\S+)\s*/.exec(body);
  if (!match) return { kind: 'error', message: 'Type a command after the slash, or /help' };
  const word = match[1]!.toLowerCase();
  const rest = body.slice(match[0].length);
  if (slashed && context.localCommands?.includes(word)) return { kind: 'local', name: word, rest };
  const command = findCommand(context.commands, word);
  if (!command || command.hidden)
    return { kind: 'error', message: `Unknown command /${word}: try /help` };
  return parseArgs(command, rest, context);
}

function parseArgs(command: CommandInfo, rest: string, context: InputContext): ParsedInput {
  const args: Record<string, unknown> = {};
  const prompts: ArgInfo[] = [];
  let remaining = rest;
  for (const arg of command.args) {
    if (arg.kind === 'secret' || arg.kind === 'confirm') {
      prompts.push(arg);
      continue;
    }
    if (arg.kind === 'text') {
      const text = remaining.trim() === '' ? '' : remaining;
      if (text === '') {
        if (arg.optional) continue;
        return usageError(command);
      }
      args[arg.name] = text;
      remaining = '';
      continue;
    }
    const token = nextToken(remaining);
    if (!token) {
      if (arg.optional) continue;
      return usageError(command);
    }
    remaining = token.rest;
    const value = token.value;
    if (arg.choices && !arg.choices.includes(value.toLowerCase())) {
      if (arg.optional) {
        // An optional word that does not match belongs to the next argument.
        remaining = token.raw + remaining;
        continue;
      }
      return { kind: 'error', message: `${arg.name} must be one of: ${arg.choices.join(', ')}` };
    }
    if (arg.kind === 'integer') {
      if (!/^-?\d+$/.test(value)) {
        if (arg.optional) {
          remaining = token.raw + remaining;
          continue;
        }
        return { kind: 'error', message: `${arg.name} must be a whole number` };
      }
      args[arg.name] = Number(value);
    } else if (arg.kind === 'names') {
      args[arg.name] = value.split(',').filter(Boolean);
    } else if (arg.kind === 'duration') {
      if (!/^(\d+[smhdw]?|forever|permanent)$/i.test(value)) {
        if (arg.optional) {
          remaining = token.raw + remaining;
          continue;
        }
        return { kind: 'error', message: `${arg.name} must be a duration such as 30m, 2h or 7d` };
      }
      args[arg.name] = value;
    } else if (arg.choices?.length === 1 && arg.choices[0] === arg.name) {
      // A word that is its own only choice is a switch (`/ban eve address`).
      args[arg.name] = true;
    } else if (arg.kind === 'name' && arg.name === 'room') {
      // Rooms are shown as `#dev`: typing them so must work too.
      args[arg.name] = stripRoomSign(value);
    } else {
      args[arg.name] = arg.choices ? value.toLowerCase() : value;
    }
  }
  if (remaining.trim() !== '') return usageError(command);
  if (args.room === undefined && actsOnCurrentRoom(command)) args.room = context.currentRoom;
  return { kind: 'request', command, args, prompts };
}

/** `#dev` → `dev`: a leading `#` is how rooms are shown, never part of the name. */
export function stripRoomSign(name: string): string {
  return name.startsWith('#') ? name.slice(1) : name;
}

/**
 * Commands that act on a room take the current one when none is typed: those with an
 * optional `room` argument (`/leave`, `/close`, `/members`) and those that always act on
 * the current room (`say`, `/history`, `/topic`).
 */
const CURRENT_ROOM_COMMANDS = new Set(['say', 'history', 'topic']);

export function actsOnCurrentRoom(command: CommandInfo): boolean {
  return (
    CURRENT_ROOM_COMMANDS.has(command.name) ||
    command.args.some((arg) => arg.name === 'room' && arg.optional === true)
  );
}

function usageError(command: CommandInfo): ParsedInput {
  return { kind: 'error', message: `Usage: ${usageOf(command)}` };
}

/** One token: a word, or a double-quoted string (for paths with spaces). */
function nextToken(input: string): { value: string; raw: string; rest: string } | undefined {
  const trimmed = input.replace(/^\s+/, '');
  if (trimmed === '') return undefined;
  if (trimmed.startsWith('"')) {
    const end = trimmed.indexOf('"', 1);
    if (end > 0) {
      const raw = trimmed.slice(0, end + 1);
      return {
        value: trimmed.slice(1, end),
        raw: raw + ' ',
        rest: trimmed.slice(end + 1).replace(/^\s+/, ''),
      };
    }
  }
  const match = /^(\S+)\s*/.exec(trimmed)!;
  return { value: match[1]!, raw: match[0], rest: trimmed.slice(match[0].length) };
}
