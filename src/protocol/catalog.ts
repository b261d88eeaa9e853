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

/**
 * One key of a request's `args` as the server validates it: derived from the very schema
 * the server checks requests with, so it cannot drift from what the server accepts.
 * `args` (above) is how people type a command; `params` is what goes on the wire.
 */
export interface ParamInfo {
  /** The key in the request's `args`. */
  readonly name: string;
  /**
   * The JSON type: `string`, `integer`, `number`, `boolean`, `string[]`, `integer[]`, or
   * alternatives joined with `|` (`string|integer`).
   */
  readonly type: string;
  /** Whether the request may leave it out. */
  readonly optional: boolean;
  /** The value the server uses when it is left out. */
  readonly default?: unknown;
  /** The only values allowed. */
  readonly values?: readonly unknown[];
  /** Smallest and largest value (numbers). */
  readonly min?: number;
  readonly max?: number;
  /** Shortest and longest string, in UTF-16 code units as JavaScript counts them. */
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Fewest and most items (arrays). */
  readonly minItems?: number;
  readonly maxItems?: number;
  /** A regular expression (ECMAScript syntax) the whole string must match. */
  readonly pattern?: string;
}

export interface CommandInfo {
  /** The request name on the wire, and the `/name` users type. */
  readonly name: string;
  /** Other `/` and `!` spellings. */
  readonly aliases: readonly string[];
  /** Spellings that work without `/` or `!`, as in the seeds (`quit`, `whoelse`). */
  readonly bare: readonly string[];
  /** The arguments as people type them, in order (the line parser's view). */
  readonly args: readonly ArgInfo[];
  /** Every key the request's `args` may hold on the wire, with its type. */
  readonly params: readonly ParamInfo[];
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
