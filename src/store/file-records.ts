/** The file sub-store's types (see `Store.files` in store.ts, which re-exports them). */

/**
 * Who a file belongs to or is for: an account, or a guest while its session lasts (guests'
 * files live only as long as that session). A guest is known by its guest key
 * (`Session.guestKey`): random, made for that session alone, never shown on the wire and
 * never its session id, so rows hold nothing a client or a later session could name.
 */
export type FileParty =
  | { readonly kind: 'account'; readonly accountId: number }
  | { readonly kind: 'guest'; readonly guest: string };

/** `uploading`: bytes still arriving (never listed); `ready`: stored and verified. */
export type FileState = 'uploading' | 'ready';

/** Why a sent file left the store; kept until its sender has been told. */
export type FileGoneReason = 'declined' | 'expired' | 'fetched';

export interface NewFile {
  /** Generated name of the bytes under the data dir's `files/`; never from a client. */
  readonly storageName: string;
  /** Sanitised display name: shown to people, never used as a path on the server. */
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly sender: string;
  readonly senderParty: FileParty;
  /**
   * For a guest's upload, the address it came from (an IPv6 address by its /64): guests'
   * files count against their address's quota, since a guest can always come back as a
   * new guest. Null for an account's.
   */
  readonly senderAddress: string | null;
  /** null: the shared area. */
  readonly recipient: { readonly nick: string; readonly party: FileParty } | null;
  readonly createdAt: number;
  /**
   * The node that takes the upload; a guest sender's session lives there too. Restart
   * recovery on a node touches only its own rows: others' uploads go on.
   */
  readonly node: string;
  /** The node holding a guest recipient's session; null for an account or the shared area. */
  readonly recipientNode: string | null;
}

export interface StoredFile extends NewFile {
  readonly id: number;
  readonly state: FileState;
}

export interface FileTombstone {
  readonly id: number;
  readonly name: string;
  readonly recipient: string;
  readonly reason: FileGoneReason;
  readonly at: number;
}

export interface FileStore {
  /** Records a file about to be uploaded (state `uploading`): it counts against quota. */
  create(file: NewFile): Promise<StoredFile>;
  markReady(id: number): Promise<void>;
  get(id: number): Promise<StoredFile | undefined>;
  /** Ready files sent to this party, oldest first. */
  waitingFor(party: FileParty): Promise<StoredFile[]>;
  /** Ready files this party sent to someone and nobody has fetched yet, oldest first. */
  sentBy(party: FileParty): Promise<StoredFile[]>;
  /** Ready files in the shared area, oldest first. */
  shared(): Promise<StoredFile[]>;
  /** Bytes this party stores or is uploading. */
  usedBytes(party: FileParty): Promise<number>;
  /** Bytes guests who uploaded from this address (see `senderAddress`) store or are uploading. */
  guestBytesFrom(address: string): Promise<number>;
  /** Bytes every party together stores or is uploading. */
  totalBytes(): Promise<number>;
  /** Ready files created before `ts`. */
  createdBefore(ts: number): Promise<StoredFile[]>;
  delete(id: number): Promise<void>;
  /**
   * Removes a sent file and, for an account sender, leaves a note so the sender is told
   * at next login if not online now.
   */
  retire(file: StoredFile, reason: FileGoneReason, at: number): Promise<void>;
  /** Notes left for an account, removed as they are returned. */
  takeTombstones(accountId: number): Promise<FileTombstone[]>;
  /**
   * A guest session ended: removes files waiting for its guest key (returned, so their
   * bytes can be deleted) and detaches it from the files it sent, which stay for their
   * recipients.
   */
  forgetGuest(guest: string): Promise<StoredFile[]>;
  /**
   * At start-up of `node`: its sessions did not survive the restart, so removes its
   * unfinished uploads and the files waiting for its guests (returned), and detaches its
   * guest senders. Rows of other nodes sharing the store are left as they are (rows from
   * before nodes were recorded, `node` empty, count as the caller's).
   */
  recoverAfterRestart(node: string): Promise<StoredFile[]>;
  /**
   * The same for every node not in `live` (dead, or this installation's earlier runs under
   * another node id): removes their uploads begun before `uploadsBefore` and their guests'
   * files (returned), and detaches their guest senders.
   */
  releaseNodes(live: readonly string[], uploadsBefore: number): Promise<StoredFile[]>;
  /** Every storage name the store knows, to find orphaned bytes on disk. */
  storageNames(): Promise<Set<string>>;
}
