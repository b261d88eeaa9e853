import type { ArgInfo, CommandInfo } from '../../src/protocol/index.js';
import { usageOf } from '../../src/protocol/index.js';
import { formatReply } from '../../src/client/format.js';
import { actsOnCurrentRoom, findCommand, parseInput } from '../../src/client/input-parser.js';
import { menuArgLabel, menuArgValue, menuCommands, menuQuestions } from '../../src/client/menu.js';
import { LOBBY_WINDOW } from '../../src/client/tui/chat-state.js';
import type { CompletionSource } from '../../src/client/tui/line-editor.js';
import { localCommand, LOCAL_COMMANDS } from './local-commands.js';
import { messageKey, privateKey, type WebSession } from './session.js';
import { describe } from './ws-client.js';
import { nameKey } from '../../src/protocol/names.js';

/** Names compare by the protocol's key (docs/protocol.md, "Nicknames and names"). */
const fold = nameKey;

/**
 * What people type, turned into requests through the shared parser and the server's
 * catalogue (the terminal client's rules: plain text to the current room or conversation,
 * `@name` to people, `/command` with prompts for secrets and confirmations); own messages
 * shown at once, replies worded by the shared `formatReply`.
 */
export class CommandInput {
  /** Every room on the server (from `/rooms`), for Tab after `#`; refreshed now and then. */
  private readonly serverRooms = new Map<string, string>();
  private roomsAskedAt = 0;

  constructor(private readonly session: WebSession) {}

  /** Tab completion's words: the catalogue's commands, joined and known rooms, people online. */
  completion(): CompletionSource {
    this.refreshRooms();
    const state = this.session.state;
    return {
      commands: [
        ...menuCommands(this.session.commands, this.session.isAdmin).flatMap((command) => [
          command.name,
          ...command.aliases,
        ]),
        ...LOCAL_COMMANDS,
      ],
      rooms: [
        ...state.windows.filter((window) => window.kind === 'room').map((window) => window.name),
        ...this.serverRooms.values(),
      ],
      nicks: [...state.nicks, ...(this.session.members.get(LOBBY_WINDOW)?.values() ?? [])],
    };
  }

  /**
   * Learns the server's rooms (joined or not): at login, and again at a Tab at most every
   * few seconds, so rooms others created since complete on the next Tab.
   */
  refreshRooms(): void {
    const client = this.session.connection;
    if (!client || client.isClosed || this.session.phase !== 'chat') return;
    if (!findCommand(client.commands, 'rooms') || Date.now() - this.roomsAskedAt < 3000) return;
    this.roomsAskedAt = Date.now();
    client
      .request<{ rooms?: { name: string }[] }>('rooms')
      .then((reply) => {
        this.serverRooms.clear();
        for (const room of reply.rooms ?? []) this.serverRooms.set(fold(room.name), room.name);
      })
      .catch(() => undefined);
  }

  /** `/menu`: the catalogue in a dialog; the picked command's arguments asked one by one. */
  async menu(): Promise<void> {
    const offered = menuCommands(this.session.commands, this.session.isAdmin);
    if (offered.length === 0) return this.session.notice('Not connected: no commands yet', 'error');
    const picked = await this.session.ask({
      label: 'Command',
      mode: 'choice',
      choices: offered.map((command) => ({
        value: command.name,
        label: usageOf(command),
        detail: command.summary,
      })),
    });
    const command = offered.find((candidate) => candidate.name === picked);
    if (!command) return;
    const { asked, prompts } = menuQuestions(command);
    const args: Record<string, unknown> = {};
    for (const arg of asked) {
      if (arg.kind === 'path') continue;
      const value = await this.session.ask({
        label: `/${command.name}: ${menuArgLabel(arg)}`,
        mode: 'text',
      });
      if (typeof value !== 'string') return this.session.notice('Cancelled', 'info');
      const answer = menuArgValue(arg, value);
      if (answer.kind === 'error') return this.session.notice(answer.message, 'error');
      if (answer.kind === 'value') args[arg.name] = answer.value;
    }
    if (command.args.some((arg) => arg.kind === 'path')) {
      const file = await pickFile();
      if (file)
        await this.session.sendFile(file, typeof args.to === 'string' ? args.to : undefined);
      return;
    }
    const window = this.session.state.currentWindow;
    if (args.room === undefined && actsOnCurrentRoom(command))
      args.room = window.kind === 'room' ? window.name : 'lobby';
    for (const prompt of prompts) {
      const value = await this.askArg(prompt, command);
      if (value === undefined) return this.session.notice('Cancelled', 'info');
      args[prompt.name] = value;
    }
    return this.run(command.name, args);
  }

  /** A typed line: a message, a `/command`, or one of the page's own commands. */
  async submit(line: string): Promise<void> {
    const client = this.session.connection;
    const window = this.session.state.currentWindow;
    const room = window.kind === 'room' ? window.name : 'lobby';
    const owner = this.session.owners.get(window.id);
    const word = /^[/!](\S+)/.exec(line)?.[1];
    const pathCommand = word ? findCommand(this.session.commands, word) : undefined;
    // In a private conversation's window `/close` closes the window (product.md).
    if (
      window.kind === 'private' &&
      pathCommand?.name === 'close' &&
      line.trim().split(/\s+/).length === 1
    )
      return this.session.closeWindow(window.id);
    if (pathCommand?.args.some((arg) => arg.kind === 'path'))
      return this.pickAndSend(pathCommand, line);
    const parsed = parseInput(line, {
      commands: this.session.commands,
      currentRoom: room,
      localCommands: LOCAL_COMMANDS,
      ownsCurrentRoom:
        typeof owner === 'string' &&
        this.session.me !== undefined &&
        fold(owner) === fold(this.session.me),
    });
    switch (parsed.kind) {
      case 'empty':
        return;
      case 'error':
        return this.session.notice(parsed.message, 'error');
      case 'local':
        return localCommand(this.session, parsed.name, parsed.rest.trim());
      case 'request': {
        let { command, args } = parsed;
        if (window.kind === 'private' && command.name === 'say' && !/^[/!]/.test(line)) {
          const msg = findCommand(this.session.commands, 'msg');
          if (!msg) return this.session.notice('This server has no private messages', 'error');
          command = msg;
          args = { to: window.participants, text: args.text };
        }
        if (!client || client.isClosed || this.session.phase !== 'chat')
          return this.session.notice('Not connected: nothing was sent. Reconnecting…', 'error');
        for (const prompt of parsed.prompts) {
          const value = await this.askArg(prompt, command);
          if (value === undefined) return this.session.notice('Cancelled', 'info');
          args[prompt.name] = value;
        }
        return this.run(command.name, args);
      }
    }
  }

  private askArg(arg: ArgInfo, command: CommandInfo): Promise<string | boolean | undefined> {
    if (arg.kind === 'confirm')
      return this.session.ask({
        label: arg.prompt ?? `Really ${command.name}? Type "${command.name}" to confirm`,
        mode: 'confirm',
        confirmWord: command.name,
      });
    return this.askSecret(arg);
  }

  private async askSecret(arg: ArgInfo): Promise<string | undefined> {
    const first = await this.session.ask({ label: arg.prompt ?? arg.name, mode: 'secret' });
    if (typeof first !== 'string') return undefined;
    if (!arg.repeat) return first;
    const again = await this.session.ask({ label: 'Type it again', mode: 'secret' });
    if (again !== first) {
      this.session.notice('The two entries differ: nothing was changed', 'error');
      return undefined;
    }
    return first;
  }

  /** Runs one request, showing own messages at once and the reply when it comes. */
  async run(name: string, args: Record<string, unknown>): Promise<void> {
    const client = this.session.connection;
    if (name === 'quit')
      return this.session.quit(typeof args.message === 'string' ? args.message : undefined);
    if (!client) return;
    const own = this.showOwn(name, args);
    const key = own?.key;
    try {
      const data = await client.request(name, args);
      if (key !== undefined) this.session.state.setDelivery(key, 'sent');
      // Own messages are on screen already: a later replay of them is not shown again.
      if (typeof data.mid === 'number') {
        if (name === 'say')
          this.session.markShown(messageKey(String(args.room ?? 'lobby'), data.mid));
        if (name === 'msg') this.session.markShown(privateKey(data.mid));
      }
      this.afterReply(name, args, data);
    } catch (error) {
      // A conversation that never started (`/msg nobody hi`) leaves no window behind, as
      // in the terminal client.
      if (own?.opened) this.session.state.closeWindow(own.window);
      else if (key !== undefined) this.session.state.setDelivery(key, 'failed');
      this.session.notice(describe(error), 'error');
    }
    this.session.changed();
  }

  /** `opened`: the message opened its window (a conversation's first line). */
  private showOwn(
    name: string,
    args: Record<string, unknown>,
  ): { key: number; window: string; opened: boolean } | undefined {
    const text = typeof args.text === 'string' ? args.text : undefined;
    if (text === undefined || !this.session.me) return undefined;
    let window;
    let opened = false;
    if (name === 'say')
      window = this.session.state.ensureWindow('room', String(args.room ?? 'lobby'), []);
    else if (name === 'broadcast') window = this.session.state.findWindow(LOBBY_WINDOW);
    else if (name === 'msg' && Array.isArray(args.to)) {
      const to = args.to.map(String);
      const before = this.session.state.windows.length;
      window = this.session.state.ensureWindow('private', to.join(','), to);
      opened = this.session.state.windows.length > before;
    }
    if (!window) return undefined;
    const key = this.session.state.addChat(window, {
      ts: Date.now(),
      from: this.session.me,
      text,
      own: true,
      delivery: 'sending',
      replay: undefined,
      mention: false,
      ...(name === 'msg' && Array.isArray(args.to) && { to: args.to.map(String) }),
    });
    return { key, window: window.id, opened };
  }

  private afterReply(name: string, args: Record<string, unknown>, data: Record<string, unknown>) {
    const room =
      typeof data.room === 'string'
        ? data.room
        : typeof args.room === 'string'
          ? args.room
          : undefined;
    if ((name === 'join' || name === 'create') && room) {
      this.session.rememberRoom(room);
      this.session.state.switchTo(this.session.state.ensureWindow('room', room, []).id);
    }
    if (name === 'nick' && typeof data.nick === 'string') {
      this.session.me = data.nick;
    }
    if (name === 'register') {
      this.session.state.role = typeof data.role === 'string' ? data.role : 'user';
      if (typeof args.password === 'string') this.session.password = args.password;
    }
    if (name === 'deregister') {
      this.session.state.role = 'guest';
      this.session.password = undefined;
    }
    if (name === 'passwd' && typeof args.newPassword === 'string')
      this.session.password = args.newPassword;
    if (name === 'say' || name === 'broadcast') return;
    for (const row of formatReply(name, data)) this.session.notice(row.trimEnd(), 'info');
  }

  /** `/send NAME` and `/upload`: the path is a file the person picks. */
  private async pickAndSend(command: CommandInfo, line: string): Promise<void> {
    const words = line.trim().split(/\s+/).slice(1);
    const to = command.args.some((arg) => arg.name === 'to') ? words[0] : undefined;
    if (command.args.some((arg) => arg.name === 'to') && !to)
      return this.session.notice(`Usage: /${command.name} NAME (then pick the file)`, 'error');
    const file = await pickFile();
    if (file) await this.session.sendFile(file, to);
  }
}

function pickFile(): Promise<File | undefined> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.addEventListener('change', () => resolve(input.files?.[0] ?? undefined));
    input.addEventListener('cancel', () => resolve(undefined));
    input.click();
  });
}
