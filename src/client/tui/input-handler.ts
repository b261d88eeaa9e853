import type { ArgInfo, CommandInfo } from '../../protocol/catalog.js';
import { usageOf } from '../../protocol/catalog.js';
import { ConnectionClosedError, RequestError, type ChatClient } from '../client.js';
import {
  formatTransferResult,
  isTransferCommand,
  runFileCommand,
  throttledProgress,
} from '../file-commands.js';
import { describeError, formatHelp, formatReply } from '../format.js';
import { actsOnCurrentRoom, findCommand, parseInput, stripRoomSign } from '../input-parser.js';
import { nameKey } from '../../protocol/names.js';
import { LOBBY_WINDOW, roomWindowId, type ChatState } from './chat-state.js';
import type { CompletionSource } from './line-editor.js';
import type { Prompter } from './prompter.js';
import { FileTransfers } from '../transfers.js';
import { menuArgLabel, menuArgValue, menuCommands, menuQuestions } from '../menu.js';

/** What the input handler needs of the session that owns the connection. */
export interface SessionAccess {
  readonly state: ChatState;
  /** Rooms joined besides the lobby (joined again after a fresh login). */
  readonly rooms: Set<string>;
  client(): ChatClient | undefined;
  isLoggedIn(): boolean;
  nick(): string | undefined;
  setNick(nick: string): void;
  /** The password a later reconnection logs in with (after /register, /passwd). */
  setPassword(password: string | undefined): void;
  /** An own message was acknowledged with this id (what a fresh login has seen). */
  sawMessage(mid: number): void;
  exit(message?: string): void;
  reconnectNow(): void;
  notice(text: string, level: 'info' | 'error'): void;
  /** Where downloads go (`--downloads`); the user's Downloads folder when undefined. */
  readonly downloadsDir?: string | undefined;
}

export const LOCAL_COMMANDS = ['help', 'menu', 'switch', 'clear', 'reconnect', 'mouse', 'nicklist'];
const LOCAL_HELP = [
  { usage: '/help [COMMAND]', summary: 'this list, or one command' },
  { usage: '/menu', summary: 'pick a command by number; you are asked for what it needs' },
  { usage: '/switch ROOM|@NICK|N', summary: 'show another window (also Alt+1..9, Ctrl+N/P)' },
  { usage: '/clear', summary: 'clear this window' },
  { usage: '/reconnect', summary: 'connect again now' },
  { usage: '/mouse [on|off]', summary: 'wheel scrolling (off: the terminal selects text)' },
  { usage: '/nicklist', summary: 'show or hide the member list (also Alt+N)' },
];

/**
 * Turns what people type into requests through the shared parser and the server's
 * catalogue, so every server command works here; shows own messages at once and replies
 * as they come; runs the client's own commands (/help, /menu, /switch…).
 */
export class InputHandler {
  private transfers = 0;
  /** Every room on the server (from `/rooms`), for Tab after `#`; refreshed now and then. */
  private readonly serverRooms = new Map<string, string>();
  private roomsAskedAt = 0;

  constructor(
    private readonly session: SessionAccess,
    private readonly prompter: Prompter,
  ) {}

  completion(): CompletionSource {
    this.refreshRooms();
    const commands = this.session.client()?.commands ?? [];
    return {
      commands: [
        ...commands
          .filter((command) => !command.hidden)
          .flatMap((command) => [command.name, ...command.aliases]),
        ...LOCAL_COMMANDS,
      ],
      rooms: [
        ...this.session.state.windows
          .filter((window) => window.kind === 'room')
          .map((window) => window.name),
        ...this.serverRooms.values(),
      ],
      nicks: [...this.session.state.nicks],
    };
  }

  /**
   * Learns the server's rooms (joined or not) for completion: at login, and again at a Tab
   * at most every few seconds, so rooms others created since show up on the next Tab.
   */
  refreshRooms(): void {
    const client = this.session.client();
    if (!client || !this.session.isLoggedIn() || !findCommand(client.commands, 'rooms')) return;
    if (Date.now() - this.roomsAskedAt < 3000) return;
    this.roomsAskedAt = Date.now();
    client
      .request<{ rooms?: { name: string }[] }>('rooms')
      .then((reply) => {
        this.serverRooms.clear();
        for (const room of reply.rooms ?? []) this.serverRooms.set(nameKey(room.name), room.name);
      })
      .catch(() => undefined);
  }

  private isOnline(name: string): boolean {
    const key = nameKey(name);
    for (const nick of this.session.state.nicks) if (nameKey(nick) === key) return true;
    return false;
  }

  submit(line: string): void {
    this.handleLine(line).catch((error: unknown) =>
      this.session.notice(String((error as Error).message), 'error'),
    );
  }

  private currentRoom(): string {
    const window = this.session.state.currentWindow;
    return window.kind === 'room' ? window.name : 'lobby';
  }

  private async handleLine(line: string): Promise<void> {
    this.session.state.scroll = 0;
    const commands = this.session.client()?.commands ?? [];
    const currentRoom = this.currentRoom();
    const owner = this.session.client()?.rooms.get(currentRoom)?.owner;
    const me = this.session.state.nick;
    const parsed = parseInput(line, {
      commands,
      currentRoom,
      localCommands: LOCAL_COMMANDS,
      // `exit` inside a room you own closes it.
      ownsCurrentRoom:
        owner !== undefined && owner !== null && me !== undefined && nameKey(owner) === nameKey(me),
      isOnline: (name) => this.isOnline(name),
    });
    if (parsed.kind !== 'local' && parsed.kind !== 'empty' && !this.session.isLoggedIn())
      return this.session.notice('Not connected yet: nothing was sent.', 'error');
    switch (parsed.kind) {
      case 'empty':
        return;
      case 'error':
        return this.session.notice(parsed.message, 'error');
      case 'local':
        return this.runLocal(parsed.name, parsed.rest.trim());
      case 'request': {
        let { command, args } = parsed;
        const window = this.session.state.currentWindow;
        // `/close` (nothing more) in a conversation's window closes that window.
        if (
          window.kind === 'private' &&
          command.name === 'close' &&
          /^[/!]\S+\s*$/.test(line.trim())
        ) {
          this.session.state.closeWindow(window.id);
          this.session.state.changed();
          return;
        }
        // Plain text in a private conversation goes to its people, not the lobby.
        if (window.kind === 'private' && command.name === 'say' && !/^[/!]/.test(line)) {
          const msg = findCommand(commands, 'msg');
          if (!msg) return this.session.notice('This server has no private messages', 'error');
          command = msg;
          args = { to: window.participants, text: args.text };
        }
        return this.runCommand(command, args, parsed.prompts);
      }
    }
  }

  private async runCommand(
    command: CommandInfo,
    given: Record<string, unknown>,
    prompts: readonly ArgInfo[],
  ): Promise<void> {
    const args = { ...given };
    for (const prompt of prompts) {
      const value = await this.prompter.askArg(prompt);
      if (value === undefined) return this.session.notice('Cancelled', 'info');
      args[prompt.name] = value;
    }
    await this.send(command.name, args);
  }

  private async send(name: string, args: Record<string, unknown>): Promise<void> {
    const client = this.session.client();
    if (name === 'quit')
      return this.session.exit(typeof args.message === 'string' ? args.message : undefined);
    if (!client || client.isClosed || !this.session.isLoggedIn())
      return this.session.notice(
        'Not connected: nothing was sent. It reconnects by itself; /reconnect tries now.',
        'error',
      );
    if (isTransferCommand(name, args)) return this.transfer(client, name, args);
    const own = this.showOwn(name, args);
    try {
      const data = await client.request(name, args);
      if (own) this.session.state.setDelivery(own.key, 'sent');
      if (typeof data.mid === 'number') this.session.sawMessage(data.mid);
      this.afterReply(name, args, data);
    } catch (error) {
      if (own?.opened) {
        // A conversation that never started (`/msg nobody hi`) leaves no window behind.
        this.session.state.closeWindow(own.window);
      } else if (own) this.session.state.setDelivery(own.key, 'failed');
      if (error instanceof RequestError)
        this.session.notice(`${error.message} (${error.code})`, 'error');
      else if (error instanceof ConnectionClosedError)
        this.session.notice('Not sent: the connection was lost', 'error');
      else throw error;
    }
    this.session.state.changed();
  }

  /**
   * File commands move their bytes here, in the background, with a progress bar each:
   * typing and chat go on meanwhile.
   */
  private transfer(client: ChatClient, name: string, args: Record<string, unknown>): void {
    const { state, downloadsDir } = this.session;
    const transfers = new FileTransfers(client, downloadsDir === undefined ? {} : { downloadsDir });
    const id = `${name}-${++this.transfers}`;
    const startedAt = Date.now();
    const onProgress = throttledProgress((progress) => {
      state.setTransfer({
        id,
        direction: progress.direction,
        name: progress.name,
        bytes: progress.bytes,
        totalBytes: progress.total,
        startedAt,
        now: Date.now(),
      });
      state.changed();
    }, 100);
    runFileCommand(transfers, name, args, onProgress)
      .then((result) => this.session.notice(formatTransferResult(name, result), 'info'))
      .catch((error: unknown) => {
        const code = error instanceof RequestError ? ` (${error.code})` : '';
        this.session.notice(`/${name} failed: ${describeError(error)}${code}`, 'error');
      })
      .finally(() => {
        state.endTransfer(id);
        state.changed();
      });
  }

  /**
   * Own messages appear at once, marked as sending until the server acknowledges them.
   * `opened`: the message opened its window (a conversation's first line).
   */
  private showOwn(
    name: string,
    args: Record<string, unknown>,
  ): { key: number; window: string; opened: boolean } | undefined {
    const text = typeof args.text === 'string' ? args.text : undefined;
    if (text === undefined || !this.session.nick()) return undefined;
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
      from: this.session.nick()!,
      text,
      own: true,
      delivery: 'sending',
      replay: undefined,
      mention: false,
      ...(name === 'msg' && Array.isArray(args.to) && { to: args.to.map(String) }),
    });
    this.session.state.changed();
    return { key, window: window.id, opened };
  }

  private afterReply(
    name: string,
    args: Record<string, unknown>,
    data: Record<string, unknown>,
  ): void {
    const room =
      typeof data.room === 'string'
        ? data.room
        : typeof args.room === 'string'
          ? args.room
          : undefined;
    if ((name === 'join' || name === 'create') && room) {
      this.session.rooms.add(room);
      this.session.state.switchTo(this.session.state.ensureWindow('room', room, []).id);
    } else if ((name === 'leave' || name === 'close') && room) {
      this.session.rooms.delete(room);
      this.session.state.closeWindow(roomWindowId(room));
    } else if (
      (name === 'leave' || name === 'close') &&
      this.session.state.currentWindow.kind === 'room'
    ) {
      this.session.rooms.delete(this.session.state.currentWindow.name);
      this.session.state.closeWindow(this.session.state.currentWindow.id);
    }
    if (name === 'nick' && typeof data.nick === 'string') {
      this.session.setNick(data.nick);
    }
    if (name === 'register' && this.session.state.role === 'guest')
      this.session.state.role = 'user';
    // A reconnection logs in with the password as it is now, not as it was at start.
    if (name === 'register' && typeof args.password === 'string')
      this.session.setPassword(args.password);
    if (name === 'passwd' && typeof args.newPassword === 'string')
      this.session.setPassword(args.newPassword);
    if (name === 'deregister') this.session.setPassword(undefined);
    if (name === 'msg') {
      if (Array.isArray(data.unknown) && data.unknown.length > 0)
        this.session.notice(`Not delivered to: ${data.unknown.join(', ')}`, 'error');
      // Stored for an offline account, or refused by a full inbox: say so.
      for (const row of formatReply(name, data))
        if (!row.startsWith('(not delivered')) this.session.notice(row, 'info');
    } else this.showBlock(formatReply(name, data));
  }

  /** A reply of several rows, shown as one block: the time once, the rows lined up. */
  private showBlock(rows: readonly string[]): void {
    if (rows.length === 0) return;
    this.session.state.addBlock(rows.map((row) => row.trimEnd()));
    this.session.state.changed();
  }

  private runLocal(name: string, rest: string): Promise<void> | void {
    const commands = this.session.client()?.commands ?? [];
    switch (name) {
      case 'help': {
        if (rest) {
          const command = findCommand(commands, rest.replace(/^[/!]/, ''));
          if (!command) return this.session.notice(`No command ${rest}`, 'error');
          const aliases =
            command.aliases.length > 0
              ? ` (also ${command.aliases.map((alias) => '/' + alias).join(', ')})`
              : '';
          return this.session.notice(`${usageOf(command)}${aliases}: ${command.summary}`, 'info');
        }
        return this.showBlock(
          formatHelp(commands, LOCAL_HELP, { admin: this.session.state.role === 'admin' }),
        );
      }
      case 'menu':
        return this.menu(commands);
      case 'switch':
        return this.switchWindow(rest);
      case 'clear':
        this.session.state.currentWindow.lines = [];
        this.session.state.scroll = 0;
        this.session.state.changed();
        return;
      case 'nicklist':
        this.session.state.showMembers = !this.session.state.showMembers;
        this.session.state.changed();
        return;
      case 'mouse':
        this.session.state.mouse = rest === '' ? !this.session.state.mouse : rest === 'on';
        this.session.notice(
          `Mouse ${this.session.state.mouse ? 'on: the wheel scrolls' : 'off: select text as usual'}`,
          'info',
        );
        return;
      case 'reconnect':
        if (this.session.isLoggedIn()) return this.session.notice('Already connected', 'info');
        this.session.reconnectNow();
        return;
    }
  }

  private switchWindow(rest: string): void {
    const word = rest.trim();
    if (/^\d+$/.test(word)) {
      if (!this.session.state.switchToNumber(Number(word)))
        this.session.notice(`No window ${word}`, 'error');
    } else if (word.startsWith('@')) {
      const people = word.slice(1).split(',').filter(Boolean);
      if (people.length === 0) return this.session.notice('Usage: /switch @NICK', 'error');
      this.session.state.switchTo(
        this.session.state.ensureWindow('private', people.join(','), people).id,
      );
    } else {
      const room = stripRoomSign(word) || 'lobby';
      if (!this.session.state.switchTo(roomWindowId(room)))
        return this.session.notice(`You are not in ${room}: /join it first`, 'error');
    }
    this.session.state.changed();
  }

  /** A numbered menu from the catalogue (seed 002): pick a number, answer each argument. */
  private async menu(commands: readonly CommandInfo[]): Promise<void> {
    const offered = menuCommands(commands, this.session.state.role === 'admin');
    offered.forEach((command, index) =>
      this.session.notice(
        `${String(index + 1).padStart(3)}. ${usageOf(command).padEnd(28)} ${command.summary}`,
        'info',
      ),
    );
    const choice = await this.prompter.ask({
      label: `Command number (1-${offered.length}, Esc cancels)`,
      mode: 'text',
    });
    if (choice === undefined || choice.trim() === '') return;
    const command = offered[Number(choice.trim()) - 1];
    if (!command) return this.session.notice(`No command number ${choice.trim()}`, 'error');
    const args: Record<string, unknown> = {};
    const { asked, prompts } = menuQuestions(command);
    for (const arg of asked) {
      const value = await this.prompter.ask({ label: menuArgLabel(arg), mode: 'text' });
      if (value === undefined) return this.session.notice('Cancelled', 'info');
      const answer = menuArgValue(arg, value);
      if (answer.kind === 'error') return this.session.notice(answer.message, 'error');
      if (answer.kind === 'value') args[arg.name] = answer.value;
    }
    if (args.room === undefined && actsOnCurrentRoom(command)) args.room = this.currentRoom();
    await this.runCommand(command, args, [...prompts]);
  }
}
