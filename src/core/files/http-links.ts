import { randomBytes } from 'node:crypto';
import type { StoredFile } from '../../store/store.js';
import { ChatError } from '../errors.js';
import type { Session } from '../session.js';

/**
 * How long a file link may be first used. Short: it is a bearer secret in a URL (never
 * logged, never sent as a referrer); a transfer already under way finishes past it.
 */
export const HTTP_LINK_MS = 60_000;
/** Links one session may hold at once; the oldest is dropped past this. */
export const MAX_HTTP_LINKS_PER_SESSION = 16;

/** A file link: one file to GET, or one upload in progress to PUT, for one session. */
export interface HttpLink {
  readonly token: string;
  readonly session: Session;
  readonly method: 'GET' | 'PUT';
  readonly file: StoredFile;
  /** For a PUT: the upload (as `send`/`upload` opened it). */
  readonly transfer: string | undefined;
  readonly expiresAt: number;
  /** Bytes served over all GETs of this link (ranges included). */
  served: number;
  /** A PUT is reading a request body now (one at a time). */
  busy: boolean;
}

const INVALID = 'This file link is unknown or has expired: ask for a new one';

/**
 * Short-lived per-file links for moving bytes over HTTP (docs/protocol.md, "HTTP file
 * transfer"). A link only names what its session was already allowed to fetch or upload
 * when it asked: the checks (recipient, quota, size, block list) ran then, through the
 * same file service as the native transfer, and the SHA-256 is checked the same way.
 */
export class HttpLinks {
  private readonly links = new Map<string, HttpLink>();

  constructor(private readonly now: () => number) {}

  issue(
    session: Session,
    method: 'GET' | 'PUT',
    file: StoredFile,
    transfer?: string,
  ): { readonly token: string; readonly expiresAt: number } {
    this.sweep();
    const mine = [...this.links.values()].filter((link) => link.session === session);
    if (mine.length >= MAX_HTTP_LINKS_PER_SESSION) this.links.delete(mine[0]!.token);
    const link: HttpLink = {
      token: randomBytes(24).toString('base64url'),
      session,
      method,
      file,
      transfer,
      expiresAt: this.now() + HTTP_LINK_MS,
      served: 0,
      busy: false,
    };
    this.links.set(link.token, link);
    return { token: link.token, expiresAt: link.expiresAt };
  }

  /** The live link `token` names for `method`; anything else is `unknown_transfer`. */
  redeem(token: string, method: 'GET' | 'PUT'): HttpLink {
    const link = this.links.get(token);
    if (!link || link.method !== method) throw new ChatError('unknown_transfer', INVALID);
    if (link.expiresAt <= this.now()) {
      this.links.delete(token);
      throw new ChatError('unknown_transfer', INVALID);
    }
    return link;
  }

  /** A session's own GET link whose every byte went out (for `filedone`), if `token` is one. */
  delivered(session: Session, token: string): HttpLink | undefined {
    const link = this.links.get(token);
    if (!link || link.session !== session || link.method !== 'GET') return undefined;
    if (link.served < link.file.size)
      throw new ChatError(
        'bad_chunk',
        `Only ${link.served} of ${link.file.size} bytes were sent over this link`,
      );
    this.links.delete(token);
    return link;
  }

  forget(session: Session): void {
    for (const [token, link] of this.links) if (link.session === session) this.links.delete(token);
  }

  forgetAll(): void {
    this.links.clear();
  }

  /** Kept past expiry until `filedone` or the session's end: the client is checking it. */
  private fullyServed(link: HttpLink): boolean {
    return link.method === 'GET' && link.served >= link.file.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, link] of this.links)
      if (link.expiresAt <= now && !link.busy && !this.fullyServed(link)) this.links.delete(token);
  }
}
