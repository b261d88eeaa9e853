import type { ArgInfo, CommandInfo } from '../../core/catalog.js';
import { usageOf } from '../../core/catalog.js';
import {
  ChatClient,
  ConnectionClosedError,
  RequestError,
  type CloseInfo,
  type ConnectOptions,
} from '../client.js';
import { formatHelp, formatReply } from '../format.js';
import { findCommand, parseInput } from '../input-parser.js';
import { EXIT } from '../line-mode.js';
import type { SettingsStore } from '../settings.js';
import type { AppActions } from './App.js';
import { applyEvent } from './apply-event.js';
import { ChatState, LOBBY_WINDOW, type PromptState } from './chat-state.js';
import type { CompletionSource } from './line-editor.js';

export interface Target {
  readonly host: string;
  readonly port: number;
}

export interface ControllerOptions {
  /** Where to connect; asked for on screen when missing. */
  readonly target: Target | undefined;
  readonly defaultPort: number;
  readonly nick: string | undefined;
  readonly password: string | undefined;
  /** Connection options (TLS and the like) for a target. */
  readonly connectOptions: (target: Target) => ConnectOptions;
  readonly settings: SettingsStore;
  /** Reconnection backoff: first delay and ceiling, in milliseconds. */
  readonly backoff?: { readonly firstMs: number; readonly maxMs: number };
}

export interface Outcome {
  readonly code: number;
  /** Said on the normal terminal once the full screen is gone. */
  readonly message?: string;
}

const LOCAL_COMMANDS = ['help', 'menu', 'switch', 'clear', 'reconnect'];
const LOCAL_HELP = [
  { usage: '/help [COMMAND]', summary: 'this list, or one command' },
  { usage: '/menu', summary: 'pick a command by number; you are asked for what it needs' },
  { usage: '/switch ROOM|@NICK|N', summary: 'show another window (also Alt+1..9, Ctrl+N/P)' },
  { usage: '/clear', summary: 'clear this window' },
  { usage: '/reconnect', summary: 'connect again now' },
];
/** Closing codes after which reconnecting would be wrong: the server meant it. */
const FINAL_CLOSINGS = new Set<string>(['quit', 'kicked', 'banned', 'replaced']);
/** Resume refusals after which a normal login is the answer. */
const RESUME_FALLBACK = new Set<string>([
  'resume_failed',
  'unknown_command',
  'invalid_args',
  'not_ready',
]);

type LoginData = {
  nick: string;
  session: string;
  account: boolean;
  role: string;
  resumeToken?: string;
  resumed?: boolean;
};

class Cancelled extends Error {}

const describeClose = (info: CloseInfo) =>
  info.code ? `${info.message} (${info.code})` : info.message;

/**
 * Drives one full-screen session: asks where and as whom to connect, logs in, turns typed
 * lines into requests through the shared parser, puts events on screen, and when the
 * connection drops reconnects with backoff, resuming the session when the server can.
 */
export class TuiController implements AppActions {
  readonly state = new ChatState();
  readonly finished: Promise<Outcome>;
  private finish!: (outcome: Outcome) => void;
  private client: ChatClient | undefined;
  private loggedIn = false;
  private target: Target | undefined;
  private nick: string | undefined;
  private password: string | undefined;
  private resumeToken: string | undefined;
  private lastEventId: number | undefined;
  /** Rooms joined besides the lobby, joined again after a fresh login. */
  private readonly rooms = new Set<string>();
  private pendingPrompt: ((value: string | boolean | undefined) => void) | undefined;
  private exiting = false;
  private wake: (() => void) | undefined;
  private reconnectNow = false;
  private stopReconnecting = false;

  constructor(private readonly options: ControllerOptions) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    this.target = options.target;
    this.nick = options.nick;
    this.password = options.password;
  }

  // ---- lifecycle ---------------------------------------------------------------------

  /** Runs until the user leaves; resolves `finished` with the exit code. */
  async start(): Promise<void> {
    try {
      if (!this.target) this.target = await this.askTarget();
      if (!this.target) return this.done({ code: EXIT.ok });
      this.state.server = `${this.target.host}:${this.target.port}`;
      this.state.changed();
      await this.connectLoop();
    } catch (error) {
      if (error instanceof Cancelled) return this.done({ code: EXIT.ok });
      this.done({ code: EXIT.disconnected, message: `confab: ${(error as Error).message}` });
    }
  }

  /** Ctrl+C, `/quit`, a signal: leave cleanly (a proper quit), never wait long. */
  exit(message?: string): void {
    if (this.exiting) return;
    this.exiting = true;
    this.cancelPrompt();
    this.wake?.();
    const client = this.client;
    if (client && !client.isClosed && this.loggedIn) {
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1500).unref());
      void Promise.race([client.quit(message), timeout]).finally(() => {
        client.destroy();
        this.done({ code: EXIT.ok });
      });
    } else {
      client?.destroy();
      this.done({ code: EXIT.ok });
    }
  }

  private done(outcome: Outcome): void {
    this.exiting = true;
    this.client?.destroy();
    this.finish(outcome);
  }

  private async connectLoop(): Promise<void> {
    let failures = 0;
    let everConnected = false;
    while (!this.exiting) {
      const result = await this.runConnection();
      if (this.exiting) return;
      if (result.kind === 'unreachable' && !everConnected)
        return this.done({ code: EXIT.disconnected, message: `confab: ${result.message}` });
      if (result.kind === 'ended') {
        everConnected = true;
        failures = 0;
      } else failures += 1;
      if (result.kind === 'final' || this.stopReconnecting) {
        this.state.connection = { kind: 'offline', reason: result.message };
        this.notice(
          `Disconnected: ${result.message}. Type /reconnect to connect again, or Ctrl+C to leave.`,
          'error',
        );
        await this.sleep(undefined);
        this.stopReconnecting = false;
        failures = 0;
        continue;
      }
      const { firstMs, maxMs } = this.options.backoff ?? { firstMs: 1000, maxMs: 30_000 };
      const delay = Math.min(maxMs, firstMs * 2 ** Math.min(failures, 10));
      // Jitter spreads out many clients coming back after a server restart.
      const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
      this.state.connection = {
        kind: 'reconnecting',
        attempt: failures + 1,
        inSeconds: Math.ceil(jittered / 1000),
      };
      this.state.changed();
      await this.sleep(jittered);
    }
  }

  /** Waits `ms` (or until /reconnect or exit when undefined); /reconnect cuts it short. */
  private sleep(ms: number | undefined): Promise<void> {
    if (this.reconnectNow) {
      this.reconnectNow = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        finish();
      };
    });
  }

  /**
   * One connection from connect to close. `ended`: it was logged in and then closed;
   * `unreachable`: could not connect; `final`: the server closed it for good.
   */
  private async runConnection(): Promise<{
    kind: 'ended' | 'unreachable' | 'final' | 'lost';
    message: string;
  }> {
    const target = this.target!;
    this.state.connection = { kind: this.resumeToken ? 'resuming' : 'connecting' };
    this.state.changed();
    let client: ChatClient;
    try {
      client = await ChatClient.connect(this.options.connectOptions(target));
    } catch (error) {
      return { kind: 'unreachable', message: (error as Error).message };
    }
    if (this.exiting) {
      client.destroy();
      return { kind: 'lost', message: 'leaving' };
    }
    if (client.hello.protocol !== 1) {
      client.destroy();
      this.stopReconnecting = true;
      return {
        kind: 'final',
        message: `the server speaks protocol ${client.hello.protocol}, this client 1`,
      };
    }
    this.client = client;
    if (!this.resumeToken) {
      this.state.connection = { kind: 'connected' };
      this.state.changed();
    }
    client.on('event', (event) => {
      if (this.client !== client) return;
      if (this.loggedIn) this.lastEventId = Math.max(this.lastEventId ?? 0, event.id);
      applyEvent(this.state, event);
      if (event.ev === 'renamed' && this.state.nick !== this.nick) this.nick = this.state.nick;
      this.state.changed();
    });
    const closed = client.closed();
    try {
      await this.logIn(client, closed);
    } catch (error) {
      client.destroy();
      if (error instanceof Cancelled) throw error;
      if (!(error instanceof ConnectionClosedError)) throw error;
      const info = await closed;
      if (!this.exiting) this.notice(`Connection lost: ${describeClose(info)}`, 'error');
      return {
        kind: FINAL_CLOSINGS.has(info.code ?? '') ? 'final' : 'lost',
        message: info.message,
      };
    }
    const info: CloseInfo = await closed;
    this.loggedIn = false;
    if (this.exiting) return { kind: 'ended', message: info.message };
    this.cancelPrompt();
    this.notice(`Connection lost: ${describeClose(info)}`, 'error');
    return { kind: FINAL_CLOSINGS.has(info.code ?? '') ? 'final' : 'ended', message: info.message };
  }

  /** Resume when we hold a token; otherwise (or when refused) log in, asking as needed. */
  private async logIn(client: ChatClient, closed: Promise<CloseInfo>): Promise<void> {
    if (this.resumeToken) {
      try {
        const data = await client.request<LoginData>('resume', {
          token: this.resumeToken,
          ...(this.lastEventId !== undefined && { lastEventId: this.lastEventId }),
        });
        this.loggedInAs(client, data);
        this.notice('Session resumed: missed messages follow.', 'info');
        return;
      } catch (error) {
        if (!(error instanceof RequestError) || !RESUME_FALLBACK.has(error.code)) throw error;
        this.resumeToken = undefined;
        this.notice(
          (error.code as string) === 'resume_failed'
            ? `The server could not resume the session (${error.message}): logging in again.`
            : 'Logging in again.',
          'info',
        );
      }
    }
    const rejoin = this.lastEventId !== undefined || this.rooms.size > 0;
    for (;;) {
      if (this.nick === undefined) {
        const remembered = this.options.settings.forServer(
          this.target!.host,
          this.target!.port,
        ).nick;
        this.nick = await this.askWhileOpen(closed, {
          label: 'Nickname',
          mode: 'text',
          ...(remembered && { initial: remembered }),
        });
        if (this.nick === undefined || this.nick.trim() === '') throw new Cancelled();
        this.nick = this.nick.trim();
      }
      try {
        const data = await client.request<LoginData>(
          'nick',
          this.password === undefined
            ? { nick: this.nick }
            : { nick: this.nick, password: this.password },
        );
        this.loggedInAs(client, data);
        break;
      } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        this.notice(`${error.message} (${error.code})`, 'error');
        if (error.code === 'nick_reserved' || error.code === 'login_failed') {
          this.password = await this.askWhileOpen(closed, {
            label: `Password for ${this.nick}`,
            mode: 'secret',
          });
          if (this.password === undefined) {
            this.nick = undefined;
          }
          continue;
        }
        // Taken, invalid, full, locked…: the seeds' RETRY. Ask again; Ctrl+C leaves.
        this.nick = undefined;
        this.password = undefined;
      }
    }
    if (rejoin) await this.rejoinRooms(client);
  }

  private loggedInAs(client: ChatClient, data: LoginData): void {
    this.loggedIn = true;
    this.nick = data.nick;
    client.nick = data.nick;
    client.sessionId = data.session;
    this.resumeToken = typeof data.resumeToken === 'string' ? data.resumeToken : undefined;
    this.state.nick = data.nick;
    this.state.role = data.role;
    this.state.connection = { kind: 'connected' };
    this.state.nicks.add(data.nick);
    if (!data.resumed)
      this.notice(
        `You are ${data.nick}${data.account ? ` (${data.role})` : ' (guest)'}, session ${data.session}. /help lists commands.`,
        'info',
      );
    this.options.settings.remember(this.target!.host, this.target!.port, { nick: data.nick });
    this.state.changed();
    if (findCommand(client.commands, 'who'))
      client
        .request<{ users?: { nick: string }[] }>('who')
        .then((reply) => {
          for (const user of reply.users ?? []) this.state.nicks.add(user.nick);
        })
        .catch(() => undefined);
  }

  private async rejoinRooms(client: ChatClient): Promise<void> {
    if (!findCommand(client.commands, 'join')) return;
    for (const room of this.rooms) {
      try {
        await client.request('join', { room });
      } catch (error) {
        if (error instanceof RequestError)
          this.notice(`Could not rejoin ${room}: ${error.message}`, 'error');
        else throw error;
      }
    }
  }

  // ---- prompts -----------------------------------------------------------------------

  private ask(prompt: PromptState): Promise<string | undefined> {
    return this.askAny(prompt).then((value) => (typeof value === 'string' ? value : undefined));
  }

  private askAny(prompt: PromptState): Promise<string | boolean | undefined> {
    if (this.exiting) return Promise.resolve(undefined);
    this.cancelPrompt();
    return new Promise((resolve) => {
      this.pendingPrompt = resolve;
      this.state.prompt = prompt;
      this.state.changed();
    });
  }

  /** A prompt that gives up when the connection closes: nobody answers a dead server. */
  private async askWhileOpen(
    closed: Promise<CloseInfo>,
    prompt: PromptState,
  ): Promise<string | undefined> {
    const gone = closed.then(() => 'closed' as const);
    const answer = await Promise.race([this.ask(prompt), gone]);
    if (answer === 'closed') {
      this.cancelPrompt();
      throw new ConnectionClosedError('closed while asking');
    }
    if (this.exiting) throw new Cancelled();
    return answer;
  }

  answer(value: string | boolean | undefined): void {
    const resolve = this.pendingPrompt;
    this.pendingPrompt = undefined;
    this.state.prompt = undefined;
    this.state.changed();
    resolve?.(value);
  }

  private cancelPrompt(): void {
    if (this.pendingPrompt) this.answer(undefined);
  }

  private async askTarget(): Promise<Target | undefined> {
    const last = this.options.settings.lastServer();
    const lastHost = last ? last.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') : undefined;
    const host = await this.ask({
      label: 'Server',
      mode: 'text',
      initial: lastHost ?? '127.0.0.1',
    });
    if (host === undefined || host.trim() === '') return undefined;
    const lastPort = last && lastHost === host.trim() ? /:(\d+)$/.exec(last)?.[1] : undefined;
    for (;;) {
      const port = await this.ask({
        label: 'Port',
        mode: 'text',
        initial: lastPort ?? String(this.options.defaultPort),
      });
      if (port === undefined) return undefined;
      const number = Number(port.trim());
      if (Number.isInteger(number) && number > 0 && number < 65536)
        return { host: host.trim(), port: number };
      this.notice('A port is a whole number from 1 to 65535', 'error');
    }
  }

  /** Secret and confirmation arguments: masked, twice when `repeat`; yes/no. */
  private async askArg(arg: ArgInfo): Promise<string | boolean | undefined> {
    if (arg.kind === 'confirm') {
      const yes = await this.askAny({ label: arg.prompt ?? 'Are you sure?', mode: 'confirm' });
      return yes === true ? true : undefined;
    }
    const label = arg.prompt ?? 'Password';
    const first = await this.ask({ label, mode: 'secret' });
    if (first === undefined || first === '') return undefined;
    if (arg.repeat) {
      const second = await this.ask({ label: `${label} again`, mode: 'secret' });
      if (second !== first) {
        this.notice('The two entries differ; nothing was changed', 'error');
        return undefined;
      }
    }
    return first;
  }

  // ---- input -------------------------------------------------------------------------

  completion(): CompletionSource {
    const commands = this.client?.commands ?? [];
    return {
      commands: [
        ...commands.flatMap((command) => [command.name, ...command.aliases]),
        ...LOCAL_COMMANDS,
      ],
      rooms: this.state.windows
        .filter((window) => window.kind === 'room')
        .map((window) => window.name),
      nicks: [...this.state.nicks],
    };
  }

  submit(line: string): void {
    this.handleLine(line).catch((error: unknown) =>
      this.notice(String((error as Error).message), 'error'),
    );
  }

  private currentRoom(): string {
    const window = this.state.currentWindow;
    return window.kind === 'room' ? window.name : 'lobby';
  }

  private async handleLine(line: string): Promise<void> {
    this.state.scroll = 0;
    const commands = this.client?.commands ?? [];
    const parsed = parseInput(line, {
      commands,
      currentRoom: this.currentRoom(),
      localCommands: LOCAL_COMMANDS,
    });
    if (parsed.kind !== 'local' && parsed.kind !== 'empty' && !this.loggedIn)
      return this.notice('Not connected yet: nothing was sent.', 'error');
    switch (parsed.kind) {
      case 'empty':
        return;
      case 'error':
        return this.notice(parsed.message, 'error');
      case 'local':
        return this.runLocal(parsed.name, parsed.rest.trim());
      case 'request': {
        let { command, args } = parsed;
        const window = this.state.currentWindow;
        // Plain text in a private conversation goes to its people, not the lobby.
        if (window.kind === 'private' && command.name === 'say' && !/^[/!]/.test(line)) {
          const msg = findCommand(commands, 'msg');
          if (!msg) return this.notice('This server has no private messages', 'error');
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
      const value = await this.askArg(prompt);
      if (value === undefined) return this.notice('Cancelled', 'info');
      args[prompt.name] = value;
    }
    await this.send(command.name, args);
  }

  private async send(name: string, args: Record<string, unknown>): Promise<void> {
    const client = this.client;
    if (name === 'quit')
      return this.exit(typeof args.message === 'string' ? args.message : undefined);
    if (!client || client.isClosed || !this.loggedIn)
      return this.notice(
        'Not connected: nothing was sent. It reconnects by itself; /reconnect tries now.',
        'error',
      );
    const lineKey = this.showOwn(name, args);
    try {
      const data = await client.request(name, args);
      if (lineKey !== undefined) this.state.setDelivery(lineKey, 'sent');
      this.afterReply(name, args, data);
    } catch (error) {
      if (lineKey !== undefined) this.state.setDelivery(lineKey, 'failed');
      if (error instanceof RequestError) this.notice(`${error.message} (${error.code})`, 'error');
      else if (error instanceof ConnectionClosedError)
        this.notice('Not sent: the connection was lost', 'error');
      else throw error;
    }
    this.state.changed();
  }

  /** Own messages appear at once, marked as sending until the server acknowledges them. */
  private showOwn(name: string, args: Record<string, unknown>): number | undefined {
    const text = typeof args.text === 'string' ? args.text : undefined;
    if (text === undefined || !this.nick) return undefined;
    let window;
    if (name === 'say') window = this.state.ensureWindow('room', String(args.room ?? 'lobby'), []);
    else if (name === 'broadcast') window = this.state.findWindow(LOBBY_WINDOW);
    else if (name === 'msg' && Array.isArray(args.to)) {
      const to = args.to.map(String);
      window = this.state.ensureWindow('private', to.join(','), to);
    }
    if (!window) return undefined;
    const key = this.state.addChat(window, {
      ts: Date.now(),
      from: this.nick,
      text,
      own: true,
      delivery: 'sending',
      replay: undefined,
      mention: false,
      ...(name === 'msg' && Array.isArray(args.to) && { to: args.to.map(String) }),
    });
    this.state.changed();
    return key;
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
    if (name === 'join' && room) {
      this.rooms.add(room);
      this.state.switchTo(this.state.ensureWindow('room', room, []).id);
    } else if ((name === 'leave' || name === 'close') && room) {
      this.rooms.delete(room);
      this.state.closeWindow(`#${room.normalize('NFKC').toLowerCase()}`);
    } else if ((name === 'leave' || name === 'close') && this.state.currentWindow.kind === 'room') {
      this.rooms.delete(this.state.currentWindow.name);
      this.state.closeWindow(this.state.currentWindow.id);
    }
    if (name === 'nick' && typeof data.nick === 'string') {
      this.nick = data.nick;
      this.state.nick = data.nick;
    }
    if (name === 'register' && this.state.role === 'guest') this.state.role = 'user';
    if (name === 'msg' && Array.isArray(data.unknown) && data.unknown.length > 0)
      this.notice(`Not delivered to: ${data.unknown.join(', ')}`, 'error');
    else if (name !== 'msg')
      for (const row of formatReply(name, data)) this.notice(row.trimEnd(), 'info');
  }

  private runLocal(name: string, rest: string): Promise<void> | void {
    const commands = this.client?.commands ?? [];
    switch (name) {
      case 'help': {
        if (rest) {
          const command = findCommand(commands, rest.replace(/^[/!]/, ''));
          if (!command) return this.notice(`No command ${rest}`, 'error');
          const aliases =
            command.aliases.length > 0
              ? ` (also ${command.aliases.map((alias) => '/' + alias).join(', ')})`
              : '';
          return this.notice(`${usageOf(command)}${aliases}: ${command.summary}`, 'info');
        }
        for (const row of formatHelp(commands, LOCAL_HELP)) this.notice(row.trimEnd(), 'info');
        return;
      }
      case 'menu':
        return this.menu(commands);
      case 'switch':
        return this.switchWindow(rest);
      case 'clear':
        this.state.currentWindow.lines = [];
        this.state.scroll = 0;
        this.state.changed();
        return;
      case 'reconnect':
        if (this.loggedIn) return this.notice('Already connected', 'info');
        this.reconnectNow = true;
        this.wake?.();
        return;
    }
  }

  private switchWindow(rest: string): void {
    const word = rest.trim();
    if (/^\d+$/.test(word)) {
      if (!this.state.switchToNumber(Number(word))) this.notice(`No window ${word}`, 'error');
    } else if (word.startsWith('@')) {
      const people = word.slice(1).split(',').filter(Boolean);
      if (people.length === 0) return this.notice('Usage: /switch @NICK', 'error');
      this.state.switchTo(this.state.ensureWindow('private', people.join(','), people).id);
    } else {
      const room = word.replace(/^#/, '') || 'lobby';
      if (!this.state.switchTo(`#${room.normalize('NFKC').toLowerCase()}`))
        return this.notice(`You are not in ${room}: /join it first`, 'error');
    }
    this.state.changed();
  }

  /** A numbered menu from the catalogue (seed 002): pick a number, answer each argument. */
  private async menu(commands: readonly CommandInfo[]): Promise<void> {
    const isAdmin = this.state.role === 'admin';
    const offered = commands.filter((command) => !command.admin || isAdmin);
    offered.forEach((command, index) =>
      this.notice(
        `${String(index + 1).padStart(3)}. ${usageOf(command).padEnd(28)} ${command.summary}`,
        'info',
      ),
    );
    const choice = await this.ask({
      label: `Command number (1-${offered.length}, Esc cancels)`,
      mode: 'text',
    });
    if (choice === undefined || choice.trim() === '') return;
    const command = offered[Number(choice.trim()) - 1];
    if (!command) return this.notice(`No command number ${choice.trim()}`, 'error');
    const args: Record<string, unknown> = {};
    const prompts: ArgInfo[] = [];
    for (const arg of command.args) {
      if (arg.kind === 'secret' || arg.kind === 'confirm') {
        prompts.push(arg);
        continue;
      }
      const hint = arg.choices
        ? ` (${arg.choices.join('/')})`
        : arg.kind === 'names'
          ? ' (comma-separated)'
          : '';
      const value = await this.ask({
        label: `${arg.name}${hint}${arg.optional ? ' [optional]' : ''}`,
        mode: 'text',
      });
      if (value === undefined) return this.notice('Cancelled', 'info');
      const text = value.trim();
      if (text === '') {
        if (arg.optional) continue;
        return this.notice(`${arg.name} is needed: cancelled`, 'error');
      }
      if (arg.kind === 'integer') {
        if (!/^-?\d+$/.test(text))
          return this.notice(`${arg.name} must be a whole number`, 'error');
        args[arg.name] = Number(text);
      } else if (arg.kind === 'names')
        args[arg.name] = text
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean);
      else args[arg.name] = arg.kind === 'text' ? value : text;
    }
    if (command.name === 'say' && args.room === undefined) args.room = this.currentRoom();
    await this.runCommand(command, args, prompts);
  }

  private notice(text: string, level: 'info' | 'error'): void {
    this.state.addNotice(undefined, text, level);
    this.state.changed();
  }
}
