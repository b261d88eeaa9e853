import stringWidth from 'string-width';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** User-perceived characters: `é` (e + accent), `👍🏽` and `李` are one each. */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (segment) => segment.segment);
}

/** Columns a string takes on a terminal: CJK and most emoji take two, accents none. */
export function columns(text: string): number {
  return stringWidth(text);
}

export interface VisibleInput {
  readonly before: string;
  /** The grapheme under the cursor, or a space at the end of the line. */
  readonly atCursor: string;
  readonly after: string;
  /** Column of the cursor inside the visible slice. */
  readonly cursorColumn: number;
}

/**
 * The part of an input line that fits in `width` columns with the cursor visible,
 * scrolling horizontally by whole graphemes so a wide character is never cut in half.
 */
export function visibleInput(
  chars: readonly string[],
  cursor: number,
  width: number,
): VisibleInput {
  const room = Math.max(1, width);
  const atCursor = chars[cursor] ?? ' ';
  const cursorWidth = Math.max(1, columns(atCursor));
  // Walk left from the cursor while the text still fits, keeping the cursor on screen.
  let start = cursor;
  let used = cursorWidth;
  while (start > 0) {
    const width = columns(chars[start - 1]!);
    if (used + width > room) break;
    used += width;
    start -= 1;
  }
  let end = cursor + 1;
  while (end < chars.length) {
    const width = columns(chars[end]!);
    if (used + width > room) break;
    used += width;
    end += 1;
  }
  const before = chars.slice(start, cursor).join('');
  return {
    before,
    atCursor,
    after: chars.slice(cursor + 1, Math.max(cursor + 1, end)).join(''),
    cursorColumn: columns(before),
  };
}

/** Cuts a string to at most `width` columns (whole graphemes), adding `…` when cut. */
export function truncate(text: string, width: number): string {
  if (columns(text) <= width) return text;
  let used = 0;
  let out = '';
  for (const char of graphemes(text)) {
    const w = columns(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return out + '…';
}
