/**
 * File names from the other side (a client's upload, a server's download offer) are
 * display names only. This turns any string into one that is safe to show and to use as a
 * single path component on Linux, macOS and Windows: never a separator, `.` or `..`, a
 * control or bidi-override character, a reserved Windows device name, or over-long.
 */
export const FILE_NAME_MAX_BYTES = 200;

/** Separators, characters Windows forbids, C0/C1 controls (NUL, newline…). */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[/\\:*?"<>|\u0000-\u001f\u007f-\u009f]/g;
/** Bidi controls can make `evil.exe\u202Etxt.` display as `evil.txt.exe`. */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
const FALLBACK = 'file';

export function sanitizeFileName(raw: string): string {
  let name = raw.normalize('NFC').replace(INVISIBLE, '').replace(UNSAFE, '_');
  // Windows drops trailing dots and spaces; leading dots hide files and make `..`.
  name = name.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '');
  if (name === '') return FALLBACK;
  const dot = name.indexOf('.');
  const stem = dot < 0 ? name : name.slice(0, dot);
  if (RESERVED.test(stem.trim())) name = '_' + name;
  return truncateKeepingExtension(name, FILE_NAME_MAX_BYTES);
}

/** Cuts the stem (not the extension) so the name fits `maxBytes` of UTF-8. */
function truncateKeepingExtension(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  let extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  if (Buffer.byteLength(extension) >= maxBytes / 2) extension = '';
  const stem = extension === '' ? name : name.slice(0, dot);
  const budget = maxBytes - Buffer.byteLength(extension);
  let kept = '';
  let bytes = 0;
  // Whole code points only, so a cut never leaves half a character.
  for (const char of stem) {
    const size = Buffer.byteLength(char);
    if (bytes + size > budget) break;
    kept += char;
    bytes += size;
  }
  return (kept.replace(/[\s.]+$/, '') || FALLBACK) + extension;
}

/** `name (1).ext`, `name (2).ext`, …: the n-th alternative when `name` is taken. */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}
