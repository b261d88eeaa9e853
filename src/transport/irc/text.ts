import { formatMessage, MAX_LINE_BYTES, type OutgoingTags } from './message.js';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Splits `text` into pieces of at most `maxBytes` UTF-8 bytes, cutting between grapheme
 * clusters (a cluster longer than the budget is cut between code points).
 */
export function splitByBytes(text: string, maxBytes: number): string[] {
  if (Buffer.byteLength(text) <= maxBytes) return [text];
  const pieces: string[] = [];
  let current = '';
  let size = 0;
  for (const { segment } of graphemes.segment(text)) {
    const bytes = Buffer.byteLength(segment);
    if (bytes > maxBytes) {
      for (const char of segment) {
        const charBytes = Buffer.byteLength(char);
        if (size + charBytes > maxBytes) {
          pieces.push(current);
          current = '';
          size = 0;
        }
        current += char;
        size += charBytes;
      }
      continue;
    }
    if (size + bytes > maxBytes) {
      pieces.push(current);
      current = '';
      size = 0;
    }
    current += segment;
    size += bytes;
  }
  if (current !== '') pieces.push(current);
  return pieces;
}

/**
 * Lines carrying a text (PRIVMSG, NOTICE) within IRC's 512 bytes: a text from a Confab
 * user may be longer (280 characters can be over 1 KB) or hold line breaks, which IRC
 * cannot carry. Each line break starts a new line, long lines are cut, NUL is dropped;
 * the message's tags go on its first line only (one msgid names one message).
 */
export function textLines(
  tags: OutgoingTags,
  source: string,
  command: string,
  target: string,
  text: string,
): string[] {
  const overhead =
    Buffer.byteLength(formatMessage(source, command, [target, 'x'], [], true)) - 1 + 2;
  const budget = Math.max(16, MAX_LINE_BYTES - overhead);
  const lines: string[] = [];
  for (const part of text.replace(/\0/g, '').split(/\r\n|\r|\n/)) {
    if (part === '' && lines.length > 0) continue;
    for (const piece of splitByBytes(part, budget))
      lines.push(
        formatMessage(source, command, [target, piece], lines.length === 0 ? tags : [], true),
      );
  }
  if (lines.length === 0) lines.push(formatMessage(source, command, [target, ''], tags, true));
  return lines;
}

/** IRC formatting codes (bold, colour, italics, …), which Confab's text rules refuse. */
const FORMATTING =
  // eslint-disable-next-line no-control-regex -- these control codes are what is matched
  /\x02|\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x0f\x11\x16\x1d\x1e\x1f]/g;

/**
 * A text from an IRC client as Confab takes it: formatting codes removed, and a CTCP
 * ACTION (`/me waves`) written as `* nick waves`. Other CTCP requests have no Confab
 * meaning: null (nothing is sent).
 */
export function textFromIrc(text: string, nick: string): string | null {
  let body = text;
  if (body.startsWith('\x01')) {
    const inner = body.endsWith('\x01') ? body.slice(1, -1) : body.slice(1);
    const space = inner.indexOf(' ');
    const verb = (space < 0 ? inner : inner.slice(0, space)).toUpperCase();
    if (verb !== 'ACTION') return null;
    body = `* ${nick} ${space < 0 ? '' : inner.slice(space + 1)}`.trimEnd();
  }
  return body.replace(FORMATTING, '');
}
