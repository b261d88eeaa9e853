/**
 * The command catalogue, sent on request (`catalogue`; `hello` carries its hash). Clients build their
 * line parser, `/help` and `/menu` from it, so a client always offers what its server has.
 */
export type ArgKind =
  /** one word */
  | 'word'
  /** a nickname or room name */
  | 'name'
  /** one or more names separated by commas */
  | 'names'
  /** a whole number */
  | 'integer'
  /** a duration such as 90s, 10m, 2h, 7d, or "forever" */
  | 'duration'
  /** the rest of the line */
  | 'text'
  /** a path on the client's machine (the client reads or writes it, never the server) */
  | 'path'
  /** a password: clients prompt for it without echo and never take it from the line */
  | 'secret'
  /** an explicit yes/no confirmation prompt */
  | 'confirm'
  /** a list of whole numbers (protocol steps only, never typed) */
  | 'integers'
  /** a list of words (protocol steps only, never typed) */
  | 'words';

export interface ArgInfo {
  readonly name: string;
  readonly kind: ArgKind;
  readonly optional?: boolean;
  /** Allowed values, for words such as `on`/`off`. */
  readonly choices?: readonly string[];
  /** For `secret`: ask twice and compare (new passwords). */
  readonly repeat?: boolean;
  /** What to ask when prompting. */
  readonly prompt?: string;
}

export interface CommandInfo {
  /** The request name on the wire, and the `/name` users type. */
  readonly name: string;
  /** Other `/` and `!` spellings. */
  readonly aliases: readonly string[];
  /** Spellings that work without `/` or `!`, as in the seeds (`quit`, `whoelse`). */
  readonly bare: readonly string[];
  readonly args: readonly ArgInfo[];
  readonly summary: string;
  readonly admin: boolean;
  /** Feature area, for grouping in help and menus. */
  readonly group: string;
  /**
   * A protocol step that clients run for the user (file chunks and the like): leave it
   * out of help, menus and typed input.
   */
  readonly hidden?: boolean;
}

export function usageOf(info: CommandInfo): string {
  const parts = info.args
    .filter((arg) => arg.kind !== 'secret' && arg.kind !== 'confirm')
    .map((arg) => {
      const label =
        arg.choices?.join('|') ??
        (arg.kind === 'names' ? `${arg.name.toUpperCase()}[,…]` : arg.name.toUpperCase());
      return arg.optional ? `[${label}]` : label;
    });
  return ['/' + info.name, ...parts].join(' ');
}
