/** One file in a `files` reply (`waiting`, `sent`, `shared`): see docs/protocol.md. */
export interface FileEntry {
  /** The file's id, unique for ever. */
  readonly file: string;
  readonly name: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly from: string;
  readonly to?: string;
  readonly at: number;
  readonly expiresAt: number;
}
