/** The part of irc-framework (which ships no types) the IRC tests use. */
declare module 'irc-framework' {
  export interface ConnectOptions {
    host: string;
    port: number;
    nick: string;
    username?: string;
    gecos?: string;
    password?: string;
    account?: { account: string; password: string };
    enable_echomessage?: boolean;
    auto_reconnect?: boolean;
    ping_interval?: number;
  }

  export interface MessageEvent {
    type: 'privmsg' | 'notice' | 'action';
    nick: string;
    target: string;
    message: string;
    tags: Record<string, string>;
    time?: number;
    account?: string;
    batch?: { id: string; type: string; params: string[] };
  }

  export interface BatchEvent {
    id: string;
    type: string;
    params: string[];
    commands: Array<{ command: string; params: string[]; tags: Record<string, string> }>;
  }

  export class Client {
    constructor(options?: Partial<ConnectOptions>);
    connect(options: ConnectOptions): void;
    on(event: string, listener: (event: never) => void): this;
    once(event: string, listener: (event: never) => void): this;
    say(target: string, message: string): void;
    notice(target: string, message: string): void;
    action(target: string, message: string): void;
    join(channel: string): void;
    part(channel: string, message?: string): void;
    raw(...args: string[]): void;
    quit(message?: string): void;
    requestCap(cap: string | string[]): void;
    user: { nick: string };
    network: { cap: { enabled: string[] }; options: Record<string, string | string[] | boolean> };
    connected: boolean;
  }
}
