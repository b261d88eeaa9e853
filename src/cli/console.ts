import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { formatEvent, formatHelp, formatReply } from '../client/format.js';
import { parseInput } from '../client/input-parser.js';
import type { ChatCore } from '../core/chat-core.js';
import type { Outlet } from '../core/port.js';
import type { Reply, SessionFrame } from '../protocol/frames.js';
import { nameKey } from '../core/names.js';
import type { LogWatcher } from '../logging/logs.js';
import { describeActivity } from './console-activity.js';

/** Commands the console offers besides the admin ones: seeing who is online. */
const CONSOLE_EXTRAS = new Set(['who', 'whoelse']);

export interface ServerConsole {
  /** Shows a line above the prompt, keeping what the operator was typing. */
  print(line: string): void;
  close(): void;
}

/**
 * The server console (seeds 003 and 004): admin commands typed on the terminal that runs
 * `confab serve`. Lines are parsed by the clients' parser from the server's own catalogue
 * and run through the same command table as an internal admin identity; replies are
 * printed as the line client prints them.
 */
export function startConsole(
  core: ChatCore,
  input: Readable,
  output: Writable,
  watchLogs?: (watcher: LogWatcher) => () => void,
): ServerConsole {
  const print = (line: string) => {
    // Clear the prompt, print, then redraw the prompt with what was being typed.
    output.write(`\r\x1b[K${line}\n`);
    lines.prompt(true);
  };
  const catalogue = core.commands();
  const commands = catalogue.filter((command) => command.admin || CONSOLE_EXTRAS.has(command.name));
  const waiting = new Map<number, (reply: Reply) => void>();
  const outlet: Outlet = {
    transport: 'console',
    address: 'console',
    port: 0,
    send(frame: SessionFrame) {
      if ('re' in frame) {
        if (frame.re === null) return;
        waiting.get(frame.re)?.(frame);
        waiting.delete(frame.re);
        return;
      }
      const line = formatEvent(frame);
      if (line !== undefined) print(line);
    },
    close(_code, message) {
      print(message);
    },
  };
  const link = core.attachConsole(outlet);
  let nextId = 1;

  const lines = createInterface({ input, output, terminal: true, prompt: 'confab> ' });
  print('Server console: admin commands (/help lists them). Ctrl-C stops the server.');

  const run = async (line: string): Promise<void> => {
    // Parsed against the whole catalogue, so a chat command gets a clear refusal rather
    // than "unknown command".
    const parsed = parseInput(line, {
      commands: catalogue,
      currentRoom: 'lobby',
      localCommands: ['help'],
      // The seed's `kill NAME` works when NAME is online, as in a client.
      isOnline: (name) => core.findSession(nameKey(name)) !== undefined,
    });
    switch (parsed.kind) {
      case 'empty':
        return;
      case 'error':
        print(parsed.message);
        return;
      case 'local':
        for (const row of formatHelp(commands, [{ usage: '/help', summary: 'this list' }], {
          admin: true,
        }))
          print(row);
        return;
      case 'request': {
        if (!commands.includes(parsed.command) || parsed.prompts.length > 0) {
          print(`The console takes admin commands (and /who): try /help`);
          return;
        }
        const id = nextId++;
        const replied = new Promise<Reply>((resolve) => waiting.set(id, resolve));
        await core.receive(link, { id, cmd: parsed.command.name, args: parsed.args });
        const reply = await replied;
        if (reply.ok)
          for (const row of formatReply(parsed.command.name, reply.data as Record<string, unknown>))
            print(row);
        else print(`error (${reply.error.code}): ${reply.error.message}`);
        return;
      }
    }
  };

  let queue = Promise.resolve();
  lines.on('line', (line) => {
    queue = queue.then(() => run(line)).catch((error: unknown) => print(String(error)));
  });
  // Ctrl-C on a raw terminal reaches readline, not the process: treat it as the signal.
  lines.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  // Logins, kicks and errors as they happen, above the prompt.
  const unwatch = watchLogs?.((record) => {
    const line = describeActivity(record);
    if (line !== undefined) print(line);
  });
  lines.prompt();
  return {
    print,
    close() {
      unwatch?.();
      lines.close();
    },
  };
}
