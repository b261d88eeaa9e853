import {
  ChatClient,
  ConnectionClosedError,
  RequestError,
  type CloseInfo,
  type ConnectOptions,
} from '../client.js';
import { FINAL_CLOSINGS, reconnectDelay, ResumePoint } from '../resume.js';
import { findCommand } from '../input-parser.js';
import { EXIT } from '../line-mode.js';
import type { SettingsStore } from '../settings.js';
import type { AppActions } from './App.js';
import { applyEvent } from './apply-event.js';
import { ChatState, roomWindowId, type PromptState } from './chat-state.js';
import { InputHandler, type SessionAccess } from './input-handler.js';
import type { CompletionSource } from './line-editor.js';
import { Prompter } from './prompter.js';
import type { ServerEvent } from '../../protocol/events.js';
import { nameKey } from '../../protocol/names.js';

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
  /** Where downloads go (`--downloads`); default the user's Downloads folder or cwd. */
  readonly downloadsDir?: string;
  /** Reconnection backoff: first delay and ceiling, in milliseconds. */
  readonly backoff?: { readonly firstMs: number; readonly maxMs: number };
}

export interface Outcome {
  readonly code: number;
  /** Said on the normal terminal once the full screen is gone. */
  readonly message?: string;
}

type LoginData = {
  nick: string;
  session: string;
  account: boolean;
  role: string;
  resumeToken?: string;
  resumed?: boolean;
};

class Cancelled extends Error {}
/** Login answers were given after the connection closed: connect again and use them. */
class RetryLogin extends Error {}

export { reconnectDelay };

const sameName = (a: string, b: string) => nameKey(a) === nameKey(b);

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
  /** `--nick`: offered again after a refusal, whatever was used last time. */
  private readonly requestedNick: string | undefined;
  /** Asked to end the account's session elsewhere (answered yes to the takeover question). */
  private takeover = false;
  /** The resume token and last event id, kept across connections. */
  private readonly resumePoint = new ResumePoint();
  /** Newest message id seen: a fresh login asks only for what came after it. */
  private lastMid: number | undefined;
  /** Rooms joined besides the lobby, joined again after a fresh login. */
  private readonly rooms = new Set<string>();
  private exiting = false;
  private wake: (() => void) | undefined;
  private reconnectNow = false;
  private stopReconnecting = false;
  private readonly prompter = new Prompter(this.state, (text, level) => this.notice(text, level));
  private readonly input: InputHandler;

  constructor(private readonly options: ControllerOptions) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    this.target = options.target;
    this.nick = options.nick;
    this.requestedNick = options.nick;
    this.password = options.password;
    const session: SessionAccess = {
      state: this.state,
      rooms: this.rooms,
      client: () => this.client,
      isLoggedIn: () => this.loggedIn,
      nick: () => this.nick,
      setNick: (nick) => {
        this.nick = nick;
        this.state.nick = nick;
      },
      exit: (message) => this.exit(message),
      setPassword: (password) => {
        this.password = password;
      },
      sawMessage: (mid) => this.sawMessage(mid),
      reconnectNow: () => {
        this.reconnectNow = true;
        this.wake?.();
      },
      notice: (text, level) => this.notice(text, level),
      downloadsDir: options.downloadsDir,
    };
    this.input = new InputHandler(session, this.prompter);
  }

  // ---- what the screen calls ---------------------------------------------------------

  submit(line: string): void {
    this.input.submit(line);
  }

  answer(value: string | boolean | undefined): void {
    this.prompter.answer(value);
  }

  completion(): CompletionSource {
    return this.input.completion();
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
    this.prompter.close();
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
    /** When the connection was lost: retries stay quick for the first minute after. */
    let lostAt = Date.now();
    while (!this.exiting) {
      const result = await this.runConnection();
      if (this.exiting) return;
      if (result.kind === 'unreachable' && !everConnected)
        return this.done({ code: EXIT.disconnected, message: `confab: ${result.message}` });
      // Answers given while the connection timed out: go straight back with them.
      if (result.kind === 'retry') continue;
      if (result.kind === 'ended') {
        everConnected = true;
        failures = 0;
        lostAt = Date.now();
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
      const delay = reconnectDelay(failures, Date.now() - lostAt, this.options.backoff);
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
    kind: 'ended' | 'unreachable' | 'final' | 'lost' | 'retry';
    message: string;
  }> {
    const target = this.target!;
    // Asked before connecting: the server's registration deadline does not run meanwhile.
    const resuming = this.resumePoint.token !== undefined;
    if (!resuming && this.nick === undefined) await this.askNick();
    this.state.connection = { kind: resuming ? 'resuming' : 'connecting' };
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
    if (!resuming) {
      this.state.connection = { kind: 'connected' };
      this.state.changed();
    }
    // What arrives between the login reply and our handling of it (rooms restored,
    // messages missed) waits, so it is filed knowing who we are.
    let held: ServerEvent[] | undefined = [];
    const apply = (event: ServerEvent) => {
      if (event.ev === 'message' || event.ev === 'private') this.sawMessage(event.mid);
      applyEvent(this.state, event);
      // Remembered so a fresh login (when resume is refused) can join them again.
      if (event.ev === 'room_entered' && event.room.toLowerCase() !== 'lobby')
        this.rooms.add(event.room);
      if (event.ev === 'room_left' || event.ev === 'room_closed')
        for (const room of this.rooms) if (sameName(room, event.room)) this.rooms.delete(room);
      if (event.ev === 'renamed' && this.state.nick !== this.nick) this.nick = this.state.nick;
    };
    this.resumePoint.follow(client);
    client.on('event', (event) => {
      if (this.client !== client) return;
      if (held) held.push(event);
      else apply(event);
      this.state.changed();
    });
    const closed = client.closed();
    try {
      await this.logIn(client, closed, () => {
        for (const event of held ?? []) apply(event);
        held = undefined;
      });
    } catch (error) {
      client.destroy();
      if (error instanceof Cancelled) throw error;
      if (error instanceof RetryLogin) return { kind: 'retry', message: error.message };
      if (!(error instanceof ConnectionClosedError)) throw error;
      const info = await closed;
      // The deadline passed while the login was on its way (a person answered a prompt
      // just before the server's timer fired): nothing went wrong, log in again at once.
      if (info.code === 'registration_timeout' && !this.exiting)
        return { kind: 'retry', message: info.message };
      if (!this.exiting) this.notice(`Connection lost: ${describeClose(info)}`, 'error');
      return {
        kind: FINAL_CLOSINGS.has(info.code ?? '') ? 'final' : 'lost',
        message: info.message,
      };
    }
    const info: CloseInfo = await closed;
    this.loggedIn = false;
    if (this.exiting) return { kind: 'ended', message: info.message };
    this.prompter.cancel();
    this.notice(`Connection lost: ${describeClose(info)}`, 'error');
    return { kind: FINAL_CLOSINGS.has(info.code ?? '') ? 'final' : 'ended', message: info.message };
  }

  /** Resume when we hold a token; otherwise (or when refused) log in, asking as needed. */
  private async logIn(
    client: ChatClient,
    closed: Promise<CloseInfo>,
    release: () => void,
  ): Promise<void> {
    // Logged in before on an earlier connection: its rooms are joined again after a fresh login.
    const rejoin = this.resumePoint.lastEventId !== undefined || this.rooms.size > 0;
    const resumed = await this.resumePoint.resume(client);
    if (resumed.kind === 'resumed') {
      this.loggedInAs(client, resumed.ready);
      release();
      this.notice('Session resumed: missed messages follow.', 'info');
      return;
    }
    if (resumed.kind === 'refused')
      this.notice(
        resumed.error.code === 'resume_failed'
          ? `The server could not resume the session (${resumed.error.message}): logging in again.`
          : 'Logging in again.',
        'info',
      );
    for (;;) {
      if (this.nick === undefined) {
        await this.askNick();
        // The server's registration deadline may have passed while the person typed.
        if (client.isClosed) throw new RetryLogin('asked while the connection timed out');
      }
      const nick = this.nick!;
      try {
        const data = await client.request<LoginData>('nick', {
          nick,
          ...(this.password !== undefined && { password: this.password }),
          ...(this.takeover && { takeover: true }),
          ...(this.lastMid !== undefined && { seenMid: this.lastMid }),
        });
        this.takeover = false;
        this.loggedInAs(client, data);
        release();
        break;
      } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        if (error.code === 'nick_reserved' || error.code === 'login_failed') {
          // The password prompt is the expected path for an account: no error for it,
          // only for a wrong password.
          if (error.code === 'login_failed')
            this.notice(`${error.message} (${error.code})`, 'error');
          this.password = await this.askAnswer(closed, {
            label: `Password for ${nick}`,
            mode: 'secret',
          });
          if (this.password === undefined) this.nick = undefined;
          else if (client.isClosed) throw new RetryLogin('asked while the connection timed out');
          continue;
        }
        if (error.code === 'already_logged_in') {
          const yes = await this.askAnswer(closed, {
            label: 'Type yes to take it over',
            question: `${nick} is logged in elsewhere: take that session over? It ends there.`,
            mode: 'confirm',
          });
          if (yes?.trim().toLowerCase() === 'yes') {
            this.takeover = true;
            if (client.isClosed) throw new RetryLogin('asked while the connection timed out');
          } else {
            this.nick = undefined;
            this.password = undefined;
          }
          continue;
        }
        this.notice(`${error.message} (${error.code})`, 'error');
        // Taken, invalid, full, locked…: the seeds' RETRY. Ask again; Ctrl+C leaves.
        this.nick = undefined;
        this.password = undefined;
      }
    }
    if (rejoin) await this.rejoinRooms(client);
  }

  /** Newest message id seen, for a later fresh login's `seenMid`. */
  private sawMessage(mid: number): void {
    if (mid > (this.lastMid ?? 0)) this.lastMid = mid;
  }

  /** Asks for the nickname, offering `--nick` first, else the last one used here. */
  private async askNick(): Promise<void> {
    const remembered =
      this.requestedNick ??
      this.options.settings.forServer(this.target!.host, this.target!.port).nick;
    const nick = await this.prompter.ask({
      label: 'Nickname',
      mode: 'text',
      ...(remembered && { initial: remembered }),
    });
    if (this.exiting || nick === undefined || nick.trim() === '') throw new Cancelled();
    this.nick = nick.trim();
  }

  private loggedInAs(client: ChatClient, data: LoginData): void {
    this.loggedIn = true;
    this.nick = data.nick;
    client.nick = data.nick;
    client.sessionId = data.session;
    this.resumePoint.loggedIn(data);
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
    this.input.refreshRooms();
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
    for (const room of [...this.rooms]) {
      // An account's rooms come back by themselves (room_entered, restored).
      if (client.rooms.has(room)) continue;
      try {
        await client.request('join', { room });
      } catch (error) {
        // An account is back in its rooms at login already.
        if (error instanceof RequestError && error.code === 'already_in_room') continue;
        if (error instanceof RequestError)
          this.notice(`Could not rejoin ${room}: ${error.message}`, 'error');
        else throw error;
      }
    }
  }

  // ---- prompts -----------------------------------------------------------------------

  /**
   * A login question. A person may take longer than the server's registration deadline:
   * the question stays open when the connection closes, and the answer is used on the
   * next connection. A connection lost for another reason (the server went away) ends it.
   */
  private async askAnswer(
    closed: Promise<CloseInfo>,
    prompt: PromptState,
  ): Promise<string | undefined> {
    const asked = this.prompter.ask(prompt);
    const first = await Promise.race([asked, closed.then((info) => ({ closed: info }))]);
    if (typeof first === 'object' && first.closed.code !== 'registration_timeout') {
      this.prompter.cancel();
      throw new ConnectionClosedError('closed while asking');
    }
    const answer = await asked;
    if (this.exiting) throw new Cancelled();
    return answer;
  }

  private async askTarget(): Promise<Target | undefined> {
    const last = this.options.settings.lastServer();
    const lastHost = last ? last.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') : undefined;
    const host = await this.prompter.ask({
      label: 'Server',
      mode: 'text',
      initial: lastHost ?? '127.0.0.1',
    });
    if (host === undefined || host.trim() === '') return undefined;
    const lastPort = last && lastHost === host.trim() ? /:(\d+)$/.exec(last)?.[1] : undefined;
    for (;;) {
      const port = await this.prompter.ask({
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

  toggleMembers(): void {
    this.state.showMembers = !this.state.showMembers;
    this.state.changed();
  }

  /** Asks the server for a room's members, for the member list (kept current by events). */
  loadMembers(room: string): void {
    const client = this.client;
    if (!client || !this.loggedIn) return;
    client
      .request<{ members: { nick: string }[] }>('members', { room })
      .then((data) => {
        const window = this.state.findWindow(roomWindowId(room));
        if (!window) return;
        window.members = data.members.map((member) => member.nick);
        this.state.changed();
      })
      // Not a member any more, or the connection went: the list stays as it was.
      .catch(() => undefined);
  }

  private notice(text: string, level: 'info' | 'error'): void {
    this.state.addNotice(undefined, text, level);
    this.state.changed();
  }
}
