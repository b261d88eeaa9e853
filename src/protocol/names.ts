/**
 * Nicknames and room names share one rule: 1 to 32 letters, digits, `_` or `-`.
 * Uniqueness is decided on the key: NFKC-normalised then case-folded, so `Alice`,
 * `alice` and `ａｌｉｃｅ` (full-width) are the same name.
 */
export const NAME_MAX_LENGTH = 32;
/** The room every session is in from login to logout: `broadcast` and plain `say` go here. */
export const LOBBY = 'lobby';
const NAME_PATTERN = /^[\p{L}\p{N}_-]+$/u;

export type NameCheck = { ok: true; name: string; key: string } | { ok: false; reason: string };

export function checkName(raw: string, what = 'nickname'): NameCheck {
  const name = sameIfEqual(raw.normalize('NFKC'), raw);
  const length = [...name].length;
  if (length === 0) return { ok: false, reason: `A ${what} needs at least one character` };
  if (length > NAME_MAX_LENGTH)
    return { ok: false, reason: `A ${what} has at most ${NAME_MAX_LENGTH} characters` };
  if (!NAME_PATTERN.test(name))
    return { ok: false, reason: `A ${what} may hold only letters, digits, '_' and '-'` };
  return { ok: true, name, key: nameKey(name) };
}

export function nameKey(name: string): string {
  return sameIfEqual(name.normalize('NFKC').toLowerCase().normalize('NFKC'), name);
}

/**
 * `original` when `derived` spells the same: most names are their own key, and a session
 * keeps both for as long as it is online, so one string serves for the two.
 */
function sameIfEqual(derived: string, original: string): string {
  return derived === original ? original : derived;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Message length is counted in user-perceived characters (grapheme clusters), not bytes
 * or UTF-16 units: an emoji family or an accented letter is one character.
 */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count++;
  return count;
}

/** True when `text` has at most `max` characters, without segmenting short texts. */
export function withinCharacters(text: string, max: number): boolean {
  // UTF-16 length is never below the grapheme count, so short texts need no segmenting.
  if (text.length <= max) return true;
  return characterCount(text) <= max;
}
