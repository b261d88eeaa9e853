/**
 * IRC message syntax as modern.ircdocs.horse and the IRCv3 message-tags specification
 * describe it: `[@tags] [:source] COMMAND [params…] [:trailing]`. Parsing is lenient where
 * the specifications ask servers to be (several spaces between parts, a bare LF), strict
 * where leniency would change meaning.
 */
export interface IrcMessage {
  /** Message tags, unescaped; a tag without a value has the empty string. */
  readonly tags: ReadonlyMap<string, string>;
  /** The prefix without its colon, if the line had one. */
  readonly source: string | undefined;
  /** Upper-cased command name or three-digit numeric. */
  readonly command: string;
  readonly params: readonly string[];
}

/** The longest line without its tags, CR-LF included (RFC 1459, kept by every server). */
export const MAX_LINE_BYTES = 512;
/** The longest tag section a client may send, `@` and trailing space included (IRCv3). */
export const MAX_CLIENT_TAGS_BYTES = 4096;
/** The longest tag section a server may send, `@` and trailing space included (IRCv3). */
export const MAX_SERVER_TAGS_BYTES = 8191;

const NO_TAGS: ReadonlyMap<string, string> = new Map();

/**
 * Parses one line, without its CR-LF. Returns null for a line with no command (empty, only
 * tags or a source), which servers silently ignore.
 */
export function parseMessage(line: string): IrcMessage | null {
  let position = 0;
  let tags = NO_TAGS;
  if (line.startsWith('@')) {
    const end = line.indexOf(' ');
    if (end < 0) return null;
    tags = parseTags(line.slice(1, end));
    position = skipSpaces(line, end);
  }
  let source: string | undefined;
  if (line[position] === ':') {
    const end = line.indexOf(' ', position);
    if (end < 0) return null;
    source = line.slice(position + 1, end);
    position = skipSpaces(line, end);
  }
  const params: string[] = [];
  let command: string | undefined;
  while (position < line.length) {
    if (command !== undefined && line[position] === ':') {
      params.push(line.slice(position + 1));
      break;
    }
    let end = line.indexOf(' ', position);
    if (end < 0) end = line.length;
    const word = line.slice(position, end);
    if (command === undefined) command = word.toUpperCase();
    else params.push(word);
    position = skipSpaces(line, end);
  }
  if (command === undefined || command === '') return null;
  return { tags, source, command, params };
}

function skipSpaces(line: string, from: number): number {
  let position = from;
  while (line[position] === ' ') position++;
  return position;
}

function parseTags(raw: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const item of raw.split(';')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    // The last value of a repeated key wins (message-tags: "MUST use the last").
    tags.set(key, eq < 0 ? '' : unescapeTagValue(item.slice(eq + 1)));
  }
  return tags;
}

const TAG_UNESCAPES: Readonly<Record<string, string>> = {
  ':': ';',
  s: ' ',
  '\\': '\\',
  r: '\r',
  n: '\n',
};

export function unescapeTagValue(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = value[++i];
    // A lone trailing backslash is dropped; an unknown escape stands for its character.
    if (next === undefined) break;
    out += TAG_UNESCAPES[next] ?? next;
  }
  return out;
}

export function escapeTagValue(value: string): string {
  return value.replace(/[\\; \r\n]/g, (char) =>
    char === '\\'
      ? '\\\\'
      : char === ';'
        ? '\\:'
        : char === ' '
          ? '\\s'
          : char === '\r'
            ? '\\r'
            : '\\n',
  );
}

/** A tag list in the order given, for serialising. */
export type OutgoingTags = ReadonlyArray<readonly [string, string]>;

/**
 * Serialises a message, without CR-LF. The last parameter becomes a trailing one when it
 * must (empty, holds a space, starts with a colon), or when `trailing` asks for it, as the
 * human-readable last parameter of most numerics conventionally is.
 */
export function formatMessage(
  source: string | undefined,
  command: string,
  params: readonly string[],
  tags: OutgoingTags = [],
  trailing = false,
): string {
  let line = '';
  if (tags.length > 0)
    line =
      '@' +
      tags
        .map(([key, value]) => (value === '' ? key : `${key}=${escapeTagValue(value)}`))
        .join(';') +
      ' ';
  if (source !== undefined) line += `:${source} `;
  line += command;
  const last = params.length - 1;
  for (let i = 0; i < params.length; i++) {
    const param = params[i]!;
    if (i === last && (trailing || param === '' || param.includes(' ') || param.startsWith(':')))
      line += ` :${param}`;
    else line += ` ${param}`;
  }
  return line;
}

/**
 * CR, LF and NUL end or corrupt an IRC line: they never reach a client. Other text is
 * passed as it is (the core refuses control characters in what users send).
 */
export function lineSafe(text: string): string {
  return /[\r\n\0]/.test(text) ? text.replace(/[\r\n\0]+/g, ' ') : text;
}
