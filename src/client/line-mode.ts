import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ReadStream } from 'node:tty';
import type { ArgInfo } from '../protocol/catalog.js';
import { ChatClient, ConnectionClosedError, RequestError, type ConnectOptions } from './client.js';
import { describeError, formatEvent, formatHelp, formatReply } from './format.js';
import {
  formatProgress,
  formatTransferResult,
  isTransferCommand,
  runFileCommand,
  throttledProgress,
} from './file-commands.js';
import { findCommand, parseInput, stripRoomSign } from './input-parser.js';
import type { ServerEvent } from '../protocol/events.js';
import { nameKey } from '../protocol/names.js';
import { OnlineTracker } from './online-tracker.js';
import { FileTransfers } from './transfers.js';

function sameRoom(a: string, b: string): boolean {
  return nameKey(a) === nameKey(b);
}

/**
 * `--json` output: one object per line, each with a `type`. Events come as the server
 * sent them under `event`; replies, refusals, prompts and progress name the input line
 * (`line`, counted from 1) that caused them. Times are milliseconds since the epoch.
 */
export type JsonLine =
  | { type: 'event'; event: ServerEvent }
  | { type: 'ready'; ready: Record<string, unknown> }
  | {
      type: 'reply';
      line: number;
      command: string;
      ok: true;
      data: unknown;
    }
  | {
      type: 'reply';
      line: number;
      command: string;
      ok: false;
      error: { code: string; message: string; details?: unknown };
    }
  | { type: 'error'; line: number; error: { code: 'input'; message: string } }
  | { type: 'prompt'; line: number; prompt: string; kind: 'secret' | 'confirm' }
  | { type: 'progress'; line: number; command: string; progress: unknown };

/** Exit codes of `confab connect`, documented in the README. */
export const EXIT = {
  ok: 0,
  /** The server could not be reached, or closed the connection. */
  disconnected: 1,
  /** Bad command-line usage. */
  usage: 2,
  /** The nickname step was refused (taken, invalid, full, locked, wrong password). */
  loginRefused: 3,
} as const;

export interface LineModeOptions {
  readonly connect: ConnectOptions;
  readonly nick: string;
  /** From `--password-file`; without it, a registered nickname is asked for on a terminal. */
  readonly password?: string;
  /** End this account's session elsewhere instead of being refused (`--takeover`). */
  readonly takeover?: boolean;
  readonly json: boolean;
  /** Where downloads go (default: the user's Downloads folder, else the current one). */
  readonly downloadsDir?: string;
  readonly input: Readable;
  readonly output: Writable;
  readonly errors: Writable;
}

const LOCAL_COMMANDS = ['help', 'switch'];
const LOCAL_HELP = [
  { usage: '/help', summary: 'this list' },
  { usage: '/switch ROOM', summary: 'make a joined room (or the lobby) the current one' },
];

/**
 * `confab connect` without a terminal: each input line is a command or a message, each
 * event one output line (or one JSON object with `--json`). Scripts and bots use this.
 */
export async function runLineMode(options: LineModeOptions): Promise<number> {
  const print = (line: string) => options.output.write(line + '\n');
  const emit = (value: JsonLine) => print(JSON.stringify(value));
  const fail = (line: string) => options.errors.write(line + '\n');

  let client: ChatClient;
  try {
    client = await ChatClient.connect(options.connect);
  } catch (error) {
    fail(`confab: ${(error as Error).message}`);
    return EXIT.disconnected;
  }
  if (options.json) emit({ type: 'event', event: client.hello });
  else print(formatEvent(client.hello)!);

  // Listening before the login: what the server sends right after it (rooms restored,
  // messages missed while away) must not be lost.
  let currentRoom = 'lobby';
  // Held until the login line is printed, so the output reads in order.
  let heldEvents: ServerEvent[] | undefined = [];
  const online = new OnlineTracker();
  const show = (event: ServerEvent) => {
    if (options.json) emit({ type: 'event', event });
    else {
      const line = formatEvent(event);
      if (line !== undefined) print(line);
    }
  };
  client.on('event', (event) => {
    if (event.ev === 'ping') return;
    online.observe(event);
    // A room you join becomes the current one; leaving or losing it returns you to the lobby.
    if (event.ev === 'room_entered' && !event.restored) currentRoom = event.room;
    if (
      (event.ev === 'room_left' || event.ev === 'room_closed') &&
      sameRoom(event.room, currentRoom)
    )
      currentRoom = 'lobby';
    if (heldEvents) heldEvents.push(event);
    else show(event);
  });

  const lines = createInterface({ input: options.input, crlfDelay: Infinity, terminal: false });
  const iterator = lines[Symbol.asyncIterator]();
  /** Input lines read so far, prompt answers included: `--json` replies name theirs. */
  let linesRead = 0;
  const nextLine = async (): Promise<string | undefined> => {
    const next = await iterator.next();
    if (next.done) return undefined;
    linesRead += 1;
    return next.value;
  };
  const terminal = (options.input as Partial<ReadStream>).isTTY === true;
  /** Reads a line without echo on a terminal; piped input is read as it comes. */
  const nextSecretLine = async (): Promise<string | undefined> => {
    if (!terminal) return nextLine();
    const tty = options.input as ReadStream;
    tty.setRawMode(true);
    try {
      const line = await nextLine();
      // Raw mode: Ctrl-C arrives as a character and cancels; backspaces are applied here.
      if (line === undefined || line.includes('\u0003')) return undefined;
      return applyBackspaces(line);
    } finally {
      tty.setRawMode(false);
      options.output.write('\n');
    }
  };

  // Admin commands are listed in /help only for admins.
  let role = 'guest';
  const refused = (error: RequestError): number => {
    if (error.code === 'nick_reserved')
      fail(
        `confab: ${options.nick} is a registered nickname: log in with its password ` +
          '(--password-file FILE, or run on a terminal to be asked), or choose another nickname',
      );
    else if (error.code === 'already_logged_in')
      fail(
        `confab: ${options.nick} is logged in elsewhere; --takeover ends that session and logs in here`,
      );
    else fail(`confab: login refused (${error.code}): ${error.message}`);
    lines.close();
    client.destroy();
    return EXIT.loginRefused;
  };

  try {
    const login = (password: string | undefined) =>
      client.login(options.nick, password, { takeover: options.takeover === true });
    let ready;
    try {
      ready = await login(options.password);
    } catch (error) {
      if (
        !(error instanceof RequestError && error.code === 'nick_reserved') ||
        options.password !== undefined ||
        !terminal
      )
        throw error;
      if (options.json)
        emit({ type: 'prompt', line: 0, prompt: `Password for ${options.nick}`, kind: 'secret' });
      else options.output.write(`Password for ${options.nick}: `);
      const password = await nextSecretLine();
      if (password === undefined) throw error;
      ready = await login(password);
    }
    role = ready.role;
    // The resume token is a credential: it never goes to stdout (logs, pipes).
    const { resumeToken: _token, ...shown } = ready;
    if (options.json) emit({ type: 'ready', ready: shown });
    else
      print(
        `You are ${ready.nick}${ready.account ? ` (${ready.role})` : ' (guest)'}, session ${ready.session}`,
      );
    const held = heldEvents ?? [];
    heldEvents = undefined;
    for (const event of held) show(event);
    // Who is online, so `message bob hi` is a command only when bob is here.
    if (findCommand(client.commands, 'who'))
      await client
        .request<{ users?: { nick: string }[] }>('who')
        .then((reply) => online.seed((reply.users ?? []).map((user) => user.nick)))
        .catch(() => undefined);
  } catch (error) {
    if (error instanceof RequestError) return refused(error);
    fail(`confab: ${(error as Error).message}`);
    lines.close();
    return EXIT.disconnected;
  }

  const transfers = new FileTransfers(
    client,
    options.downloadsDir === undefined ? {} : { downloadsDir: options.downloadsDir },
  );

  const closed = client.closed();
  let quitting = false;

  const ask = (lineNumber: number, prompt: string, kind: 'secret' | 'confirm') => {
    if (options.json) emit({ type: 'prompt', line: lineNumber, prompt, kind });
    else print(prompt);
  };
  const answerPrompt = async (
    arg: ArgInfo,
    lineNumber: number,
  ): Promise<string | boolean | undefined> => {
    if (arg.kind === 'confirm') {
      // Destructive: only the word itself confirms (a stray `y` must not delete anything).
      ask(lineNumber, `${arg.prompt ?? 'Are you sure?'}: type yes to confirm`, 'confirm');
      return (await nextLine())?.trim().toLowerCase() === 'yes';
    }
    ask(lineNumber, `${arg.prompt ?? 'Password'}:`, 'secret');
    const first = await nextSecretLine();
    if (first === undefined) return undefined;
    if (arg.repeat) {
      ask(lineNumber, `${arg.prompt ?? 'Password'} again:`, 'secret');
      if ((await nextSecretLine()) !== first) {
        fail('The two entries differ; nothing was changed');
        return undefined;
      }
    }
    return first;
  };

  const background = new Set<Promise<void>>();
  const runTransfer = async (
    name: string,
    args: Record<string, unknown>,
    lineNumber: number,
  ): Promise<void> => {
    const progress = throttledProgress((p) =>
      options.json
        ? emit({ type: 'progress', line: lineNumber, command: name, progress: p })
        : print(formatProgress(p)),
    );
    try {
      const result = await runFileCommand(transfers, name, args, progress);
      if (options.json)
        emit({ type: 'reply', line: lineNumber, command: name, ok: true, data: result });
      else print(formatTransferResult(name, result));
    } catch (error) {
      if (error instanceof ConnectionClosedError) return;
      const code = error instanceof RequestError ? error.code : 'local';
      if (options.json)
        emit({
          type: 'reply',
          line: lineNumber,
          command: name,
          ok: false,
          error: { code, message: describeError(error) },
        });
      else fail(`error (${code}): ${describeError(error)}`);
    }
  };

  const handleLine = async (line: string, lineNumber: number): Promise<void> => {
    const parsed = parseInput(line, {
      commands: client.commands,
      currentRoom,
      localCommands: LOCAL_COMMANDS,
      ownsCurrentRoom:
        client.nick !== undefined &&
        sameRoom(client.rooms.get(currentRoom)?.owner ?? '', client.nick),
      isOnline: (name) => online.has(name),
    });
    switch (parsed.kind) {
      case 'empty':
        return;
      case 'error':
        if (options.json)
          emit({
            type: 'error',
            line: lineNumber,
            error: { code: 'input', message: parsed.message },
          });
        else fail(parsed.message);
        return;
      case 'local':
        if (parsed.name === 'help') {
          const rows = formatHelp(client.commands, LOCAL_HELP, { admin: role === 'admin' });
          if (options.json)
            emit({
              type: 'reply',
              line: lineNumber,
              command: 'help',
              ok: true,
              data: { lines: rows },
            });
          else for (const row of rows) print(row);
        } else if (parsed.name === 'switch') {
          const room = stripRoomSign(parsed.rest.trim()) || 'lobby';
          const joined = client.rooms.get(room);
          if (!joined) {
            const message = `You are not in ${room}: /join it first`;
            if (options.json)
              emit({ type: 'error', line: lineNumber, error: { code: 'input', message } });
            else fail(message);
          } else currentRoom = joined.name;
        }
        return;
      case 'request': {
        const args = { ...parsed.args };
        for (const prompt of parsed.prompts) {
          const answer = await answerPrompt(prompt, lineNumber);
          if (answer === undefined || answer === false) {
            fail('Cancelled');
            return;
          }
          args[prompt.name] = answer;
        }
        const name = parsed.command.name;
        if (name === 'quit') quitting = true;
        try {
          if (isTransferCommand(name, args)) {
            // In the background: typing (chat) goes on while bytes move.
            const running = runTransfer(name, args, lineNumber).finally(() =>
              background.delete(running),
            );
            background.add(running);
            return;
          }
          const data = await client.request(name, args);
          // Every reply, a message's acknowledgement included, names the line it answers.
          if (options.json)
            emit({ type: 'reply', line: lineNumber, command: name, ok: true, data });
          else for (const row of formatReply(name, data)) print(row);
        } catch (error) {
          if (error instanceof RequestError) {
            if (options.json)
              emit({
                type: 'reply',
                line: lineNumber,
                command: name,
                ok: false,
                error: { code: error.code, message: error.message, details: error.details },
              });
            else fail(`error (${error.code}): ${error.message}`);
          } else if (!(error instanceof ConnectionClosedError)) throw error;
        }
        return;
      }
    }
  };

  // Input and the connection race: whichever ends first decides how we exit.
  const inputDone = (async () => {
    for (;;) {
      const line = await nextLine();
      const lineNumber = linesRead;
      // End of input: let transfers in progress finish before leaving.
      if (line === undefined) await Promise.all([...background]);
      if (line === undefined || client.isClosed) return;
      await handleLine(line, lineNumber);
      if (quitting || client.isClosed) return;
    }
  })();
  const outcome = await Promise.race([
    inputDone.then(() => 'input' as const),
    closed.then(() => 'closed' as const),
  ]);
  if (outcome === 'input' && !client.isClosed) await client.quit();
  lines.close();
  const info = await closed;
  if (quitting || outcome === 'input' || info.byClient) return EXIT.ok;
  fail(
    `confab: the server closed the connection${info.code ? ` (${info.code})` : ''}: ${info.message}`,
  );
  return EXIT.disconnected;
}

/** Applies DEL/BS characters typed in raw mode to the text before them. */
function applyBackspaces(line: string): string {
  const out: string[] = [];
  for (const char of line) {
    if (char === '\u007f' || char === '\b') out.pop();
    else out.push(char);
  }
  return out.join('');
}
