import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ReadStream } from 'node:tty';
import type { ArgInfo } from '../protocol/catalog.js';
import { ChatClient, ConnectionClosedError, RequestError, type ConnectOptions } from './client.js';
import { formatEvent, formatHelp, formatReply } from './format.js';
import {
  formatProgress,
  formatTransferResult,
  isTransferCommand,
  runFileCommand,
  throttledProgress,
} from './file-commands.js';
import { parseInput } from './input-parser.js';
import type { ServerEvent } from '../protocol/events.js';
import { nameKey } from '../core/names.js';

function sameRoom(a: string, b: string): boolean {
  return nameKey(a) === nameKey(b);
}
import { FileTransfers } from './transfers.js';

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
  const emit = (value: object) => print(JSON.stringify(value));
  const fail = (line: string) => options.errors.write(line + '\n');

  let client: ChatClient;
  try {
    client = await ChatClient.connect(options.connect);
  } catch (error) {
    fail(`confab: ${(error as Error).message}`);
    return EXIT.disconnected;
  }
  if (options.json) emit(client.hello);
  else print(formatEvent(client.hello)!);

  // Listening before the login: what the server sends right after it (rooms restored,
  // messages missed while away) must not be lost.
  let currentRoom = 'lobby';
  // Held until the login line is printed, so the output reads in order.
  let heldEvents: ServerEvent[] | undefined = [];
  const show = (event: ServerEvent) => {
    if (options.json) emit(event);
    else {
      const line = formatEvent(event);
      if (line !== undefined) print(line);
    }
  };
  client.on('event', (event) => {
    if (event.ev === 'ping') return;
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
  const nextLine = async (): Promise<string | undefined> => {
    const next = await iterator.next();
    return next.done ? undefined : next.value;
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
      options.output.write(`Password for ${options.nick}: `);
      const password = await nextSecretLine();
      if (password === undefined) throw error;
      ready = await login(password);
    }
    if (options.json) emit({ ready });
    else
      print(
        `You are ${ready.nick}${ready.account ? ` (${ready.role})` : ' (guest)'}, session ${ready.session}`,
      );
    const held = heldEvents ?? [];
    heldEvents = undefined;
    for (const event of held) show(event);
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

  const answerPrompt = async (arg: ArgInfo): Promise<string | boolean | undefined> => {
    if (arg.kind === 'confirm') {
      print(`${arg.prompt ?? 'Are you sure?'} (yes/no)`);
      const answer = (await nextLine())?.trim().toLowerCase();
      return answer === 'yes' || answer === 'y';
    }
    print(`${arg.prompt ?? 'Password'}:`);
    const first = await nextSecretLine();
    if (first === undefined) return undefined;
    if (arg.repeat) {
      print(`${arg.prompt ?? 'Password'} again:`);
      if ((await nextSecretLine()) !== first) {
        fail('The two entries differ; nothing was changed');
        return undefined;
      }
    }
    return first;
  };

  const background = new Set<Promise<void>>();
  const runTransfer = async (name: string, args: Record<string, unknown>): Promise<void> => {
    const progress = throttledProgress((p) =>
      options.json ? emit({ progress: p }) : print(formatProgress(p)),
    );
    try {
      const result = await runFileCommand(transfers, name, args, progress);
      if (options.json) emit({ reply: name, ok: true, data: result });
      else print(formatTransferResult(name, result));
    } catch (error) {
      if (error instanceof ConnectionClosedError) return;
      const code = error instanceof RequestError ? error.code : 'local';
      if (options.json)
        emit({ reply: name, ok: false, error: { code, message: (error as Error).message } });
      else fail(`error (${code}): ${(error as Error).message}`);
    }
  };

  const handleLine = async (line: string): Promise<void> => {
    const parsed = parseInput(line, {
      commands: client.commands,
      currentRoom,
      localCommands: LOCAL_COMMANDS,
      ownsCurrentRoom:
        client.nick !== undefined &&
        sameRoom(client.rooms.get(currentRoom)?.owner ?? '', client.nick),
    });
    switch (parsed.kind) {
      case 'empty':
        return;
      case 'error':
        if (options.json) emit({ error: { code: 'input', message: parsed.message } });
        else fail(parsed.message);
        return;
      case 'local':
        if (parsed.name === 'help') {
          for (const row of formatHelp(client.commands, LOCAL_HELP)) print(row);
        } else if (parsed.name === 'switch') {
          const room = parsed.rest.trim() || 'lobby';
          const joined = client.rooms.get(room);
          if (!joined) fail(`You are not in ${room}: /join it first`);
          else currentRoom = joined.name;
        }
        return;
      case 'request': {
        const args = { ...parsed.args };
        for (const prompt of parsed.prompts) {
          const answer = await answerPrompt(prompt);
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
            const running = runTransfer(name, args).finally(() => background.delete(running));
            background.add(running);
            return;
          }
          const data = await client.request(name, args);
          if (options.json) emit({ reply: name, ok: true, data });
          else for (const row of formatReply(name, data)) print(row);
        } catch (error) {
          if (error instanceof RequestError) {
            if (options.json)
              emit({
                reply: name,
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
      // End of input: let transfers in progress finish before leaving.
      if (line === undefined) await Promise.all([...background]);
      if (line === undefined || client.isClosed) return;
      await handleLine(line);
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
