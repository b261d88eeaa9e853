/**
 * Durations as people type them (`90s`, `10m`, `2h`, `7d`, `2w`, a bare number of seconds)
 * or `forever`. Returns milliseconds, `null` for forever, or undefined when unreadable.
 */
const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Ten years: longer than any ban anyone means, short enough to stay a safe integer. */
export const MAX_DURATION_MS = 3650 * 86_400_000;

export function parseDuration(text: string | number): number | null | undefined {
  if (typeof text === 'number')
    return Number.isInteger(text) && text > 0 && text * 1000 <= MAX_DURATION_MS
      ? text * 1000
      : undefined;
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'forever' || trimmed === 'permanent') return null;
  const match = /^(\d+)([smhdw]?)$/.exec(trimmed);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] || 's']!;
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** `1h 30m`, `45s`: for notices and lists. */
export function describeDuration(ms: number): string {
  let seconds = Math.max(0, Math.ceil(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  return parts.length > 0 ? parts.slice(0, 2).join(' ') : '0s';
}
