import type { BlobStore } from '../../store/blobs.js';
import type { FileParty, StoredFile } from '../../store/store.js';
import type { ChatCore } from '../chat-core.js';
import { ChatError } from '../errors.js';
import type { Session } from '../session.js';
import { sanitizeFileName } from './file-names.js';

export const DAY_MS = 86_400_000;
/** Room left in a frame for the JSON around a chunk's base64 data. */
const FRAME_OVERHEAD_BYTES = 256;
const MAX_CHUNK_BYTES = 48 * 1024;

/** What the upload, download and lifecycle parts of the file service share. */
export interface FileContext {
  readonly core: ChatCore;
  readonly blobs: BlobStore;
  newTransferId(): string;
}

/** The largest chunk whose base64 request still fits a client frame of `frameMaxBytes`. */
export function chunkBytesFor(frameMaxBytes: number): number {
  const fitting = Math.floor((frameMaxBytes - FRAME_OVERHEAD_BYTES) / 4) * 3;
  return Math.max(3, Math.min(MAX_CHUNK_BYTES, fitting));
}

/** Files are named on the wire `f<id>`, so `/get alice f12` picks one of same-named files. */
export function publicFileId(file: StoredFile): string {
  return `f${file.id}`;
}

export function partyOf(session: Session): FileParty {
  return session.account
    ? { kind: 'account', accountId: session.account.id }
    : { kind: 'guest', guest: session.guestKey };
}

export function sameParty(a: FileParty | undefined, b: FileParty): boolean {
  if (!a) return false;
  if (a.kind === 'account') return b.kind === 'account' && a.accountId === b.accountId;
  return b.kind === 'guest' && a.guest === b.guest;
}

export function pick(files: readonly StoredFile[], ref: string, missing: string): StoredFile {
  const byId = /^f\d+$/i.test(ref)
    ? files.find((file) => publicFileId(file) === ref.toLowerCase())
    : undefined;
  const found = byId ?? files.find((file) => file.name === sanitizeFileName(ref));
  if (!found) throw new ChatError('unknown_file', missing);
  return found;
}
