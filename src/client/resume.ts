import { RequestError, type ProtocolClient, type ReadyInfo } from './connection.js';

/**
 * Coming back after a lost connection, the same for every surface (terminal, browser):
 * what survives the connection (the resume token, the last event id), when to try again,
 * and when not to. Transport-neutral: the browser bundles it.
 */

/** Closing codes after which reconnecting would be wrong: the server meant it. */
export const FINAL_CLOSINGS: ReadonlySet<string> = new Set([
  'quit',
  'kicked',
  'banned',
  'replaced',
]);

/**
 * Resume refusals after which a normal login is the answer: the token is forged, used or
 * expired (a server restart forgets sessions), or the server does not offer resume.
 */
export const RESUME_FALLBACK: ReadonlySet<string> = new Set([
  'resume_failed',
  'unknown_command',
  'invalid_args',
  'not_ready',
]);

/**
 * Delay before reconnection attempt `failures` + 1: within the first minute after the
 * connection was lost, never more than a few seconds (a restarted server is back soon
 * and people are waiting); after that, exponential up to `maxMs`. Callers add jitter.
 */
export function reconnectDelay(
  failures: number,
  sinceLostMs: number,
  backoff: { readonly firstMs: number; readonly maxMs: number } = { firstMs: 1000, maxMs: 30_000 },
): number {
  const exponential = Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.min(failures, 10));
  return sinceLostMs < 60_000 ? Math.min(exponential, 3 * backoff.firstMs) : exponential;
}

/** Where the resume token is kept between connections (memory; a browser tab's storage). */
export interface TokenStore {
  get(): string | undefined;
  set(token: string | undefined): void;
}

export function memoryTokenStore(): TokenStore {
  let token: string | undefined;
  return { get: () => token, set: (value) => (token = value) };
}

export type ResumeOutcome =
  /** Nothing to resume: log in. */
  | { readonly kind: 'none' }
  | { readonly kind: 'resumed'; readonly ready: ReadyInfo }
  /** The server cannot give the session back (see `RESUME_FALLBACK`): log in afresh. */
  | { readonly kind: 'refused'; readonly error: RequestError };

/**
 * The session's place across connections: the token of the last login or resume, and the
 * id of the last event received (the last one, not the greatest: the server finds it by
 * position in the session's log, protocol.md, Identifiers).
 */
export class ResumePoint {
  lastEventId: number | undefined;
  /** Newest message id received, for a resume on a node that must rebuild what was missed. */
  lastMid: number | undefined;

  constructor(private readonly tokens: TokenStore = memoryTokenStore()) {}

  get token(): string | undefined {
    return this.tokens.get();
  }

  /** Keeps up with `client`'s events from now on; returns how to stop. */
  follow(client: ProtocolClient): () => void {
    const onEvent = () => {
      if (client.lastEventId !== undefined) this.lastEventId = client.lastEventId;
      if (client.lastMid !== undefined && client.lastMid > (this.lastMid ?? 0))
        this.lastMid = client.lastMid;
    };
    client.on('event', onEvent);
    return () => client.off('event', onEvent);
  }

  /** A login or resume succeeded: its token is the one to resume with next. */
  loggedIn(ready: ReadyInfo): void {
    this.tokens.set(ready.resumeToken);
  }

  /** Left for good (quit, kicked): nothing to resume. */
  forget(): void {
    this.tokens.set(undefined);
  }

  /**
   * Tries to take the session back on `client`. A refusal that calls for a fresh login is
   * an outcome (and forgets the token); anything else (the connection lost again) throws.
   */
  async resume(client: ProtocolClient): Promise<ResumeOutcome> {
    const token = this.tokens.get();
    if (token === undefined) return { kind: 'none' };
    try {
      const ready = await client.resume(token, this.lastEventId, this.lastMid);
      this.loggedIn(ready);
      return { kind: 'resumed', ready };
    } catch (error) {
      if (!(error instanceof RequestError) || !RESUME_FALLBACK.has(error.code)) throw error;
      this.forget();
      return { kind: 'refused', error };
    }
  }
}
