import { z } from 'zod';

/**
 * What text the server accepts, in one place (docs/protocol.md, "Text rules"):
 *
 * - every string in a request must be well-formed Unicode: a lone surrogate (`\ud800`)
 *   cannot be stored as UTF-8, so it came back from history as three U+FFFD while live
 *   recipients got it raw. Checked for every argument by the dispatcher (`illFormedPath`).
 * - messages, topics and reasons hold no control characters: C0 but tab (newlines
 *   included: the protocol and the IRC gateway are line-based), DEL, C1, and the line and
 *   paragraph separators U+2028/U+2029. They would move a terminal's cursor, ring its bell
 *   or forge a second line in a log or an IRC client.
 * - no bidi embeddings or overrides (U+202A..U+202E): they reorder what follows on the
 *   screen ("Trojan Source", CVE-2021-42574) and Unicode recommends isolates instead. A
 *   message's own text may hold the isolates U+2066..U+2069 when each is closed within it,
 *   which is what mixing right-to-left and left-to-right words needs; closed, they cannot
 *   reach past the message. Topics and reasons, shown inside other text, hold none.
 *
 * Names (nicknames, rooms) have their own, narrower rule in `names.ts`.
 */

export type TextKind = 'message' | 'topic' | 'reason';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;
const EMBEDDING = /[\u202a-\u202e]/;
const ISOLATE = /[\u2066-\u2069]/;
const PDI = 0x2069;

const LABELS: Record<TextKind, string> = {
  message: 'A message',
  topic: 'A topic',
  reason: 'A reason',
};

/**
 * `String.prototype.isWellFormed` (Node 20 has it; TypeScript's ES2023 library does not
 * declare it, and ES2024's would admit APIs Node 20 lacks).
 */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function codePoint(char: string): string {
  return 'U+' + char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
}

/** Why `text` is not acceptable as `kind`, or undefined when it is. */
export function textProblem(text: string, kind: TextKind): string | undefined {
  if (!isWellFormed(text))
    return `${LABELS[kind]} must be well-formed Unicode (no lone surrogates)`;
  const control = CONTROL.exec(text);
  if (control)
    return `${LABELS[kind]} may not hold control characters (${codePoint(control[0])} at position ${control.index}); tab is the only one allowed`;
  const embedding = EMBEDDING.exec(text);
  if (embedding)
    return `${LABELS[kind]} may not hold bidi embeddings or overrides (${codePoint(embedding[0])} at position ${embedding.index}); use the isolates U+2066..U+2069`;
  if (ISOLATE.test(text)) {
    if (kind !== 'message') return `${LABELS[kind]} may not hold bidi isolates (U+2066..U+2069)`;
    if (!isolatesBalanced(text))
      return 'A message must close every bidi isolate it opens (U+2066..U+2068 each need a U+2069)';
  }
  return undefined;
}

function isolatesBalanced(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x2066 && unit < PDI) depth++;
    else if (unit === PDI && --depth < 0) return false;
  }
  return depth === 0;
}

/**
 * The path (`["to", 1]`) of the first string in a request's arguments that is not
 * well-formed Unicode, or undefined. Walks what JSON can hold, bounded by the frame size.
 * Every request's arguments pass through here and almost all are well-formed, so the walk
 * allocates nothing (no path arrays, no entry pairs) until it finds a bad string.
 */
export function illFormedPath(value: unknown): Array<string | number> | undefined {
  return allWellFormed(value) ? undefined : pathToIllFormed(value, []);
}

function allWellFormed(value: unknown): boolean {
  if (typeof value === 'string') return isWellFormed(value);
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!allWellFormed(value[i])) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    if (!isWellFormed(key) || !allWellFormed(record[key])) return false;
  }
  return true;
}

function pathToIllFormed(
  value: unknown,
  path: Array<string | number>,
): Array<string | number> | undefined {
  if (typeof value === 'string') return isWellFormed(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = pathToIllFormed(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!isWellFormed(key)) return [...path, key];
      const found = pathToIllFormed(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

/** A string argument held to the text rules of `kind` (a zod schema for command tables). */
export function ruledText(kind: TextKind, schema: z.ZodString = z.string()) {
  return schema.check((ctx) => {
    const problem = textProblem(ctx.value, kind);
    if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
  });
}
