import { graphemes } from './text-width.js';

/**
 * The input line as data: text as graphemes, a cursor between them, the history of sent
 * lines and an in-progress tab completion. Every operation returns a new state, so the
 * component stays a pure view and the editing rules are testable without a terminal.
 */
export interface EditorState {
  readonly chars: readonly string[];
  /** Index into `chars`: the cursor sits before `chars[cursor]`. */
  readonly cursor: number;
  readonly history: readonly string[];
  /** While browsing history: the entry shown (index into history) and the unsent draft. */
  readonly browsing: { readonly index: number; readonly draft: string } | undefined;
  readonly completion: Completion | undefined;
}

interface Completion {
  /** Grapheme index where the completed word starts. */
  readonly start: number;
  readonly candidates: readonly string[];
  readonly index: number;
  /** The text after the completed word, kept as it was. */
  readonly tail: readonly string[];
}

const HISTORY_LIMIT = 200;

export function emptyEditor(history: readonly string[] = []): EditorState {
  return { chars: [], cursor: 0, history, browsing: undefined, completion: undefined };
}

export function textOf(state: EditorState): string {
  return state.chars.join('');
}

function edited(state: EditorState, chars: readonly string[], cursor: number): EditorState {
  return { ...state, chars, cursor, browsing: undefined, completion: undefined };
}

export function insert(state: EditorState, text: string): EditorState {
  // Pasted line breaks become spaces: one input line is one message.
  const added = graphemes(
    text
      .replace(/\r\n|\r|\n|\t/g, ' ')
      // Other control characters (and stray escape sequences) are never text.
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, ''),
  );
  if (added.length === 0) return state;
  const chars = [
    ...state.chars.slice(0, state.cursor),
    ...added,
    ...state.chars.slice(state.cursor),
  ];
  return edited(state, chars, state.cursor + added.length);
}

export function backspace(state: EditorState): EditorState {
  if (state.cursor === 0) return state;
  const chars = [...state.chars.slice(0, state.cursor - 1), ...state.chars.slice(state.cursor)];
  return edited(state, chars, state.cursor - 1);
}

export function deleteForward(state: EditorState): EditorState {
  if (state.cursor >= state.chars.length) return state;
  const chars = [...state.chars.slice(0, state.cursor), ...state.chars.slice(state.cursor + 1)];
  return edited(state, chars, state.cursor);
}

function moved(state: EditorState, cursor: number): EditorState {
  return {
    ...state,
    cursor: Math.max(0, Math.min(state.chars.length, cursor)),
    completion: undefined,
  };
}

export const left = (state: EditorState) => moved(state, state.cursor - 1);
export const right = (state: EditorState) => moved(state, state.cursor + 1);
export const home = (state: EditorState) => moved(state, 0);
export const end = (state: EditorState) => moved(state, state.chars.length);

const isSpace = (char: string | undefined) => char !== undefined && /^\s$/u.test(char);

function wordStartBefore(chars: readonly string[], cursor: number): number {
  let index = cursor;
  while (index > 0 && isSpace(chars[index - 1])) index -= 1;
  while (index > 0 && !isSpace(chars[index - 1])) index -= 1;
  return index;
}

export const wordLeft = (state: EditorState) =>
  moved(state, wordStartBefore(state.chars, state.cursor));

export function wordRight(state: EditorState): EditorState {
  let index = state.cursor;
  while (index < state.chars.length && isSpace(state.chars[index])) index += 1;
  while (index < state.chars.length && !isSpace(state.chars[index])) index += 1;
  return moved(state, index);
}

/** Ctrl+W: delete the word before the cursor. */
export function deleteWordBefore(state: EditorState): EditorState {
  const start = wordStartBefore(state.chars, state.cursor);
  return edited(state, [...state.chars.slice(0, start), ...state.chars.slice(state.cursor)], start);
}

/** Ctrl+U: delete everything before the cursor. */
export const deleteToStart = (state: EditorState) =>
  edited(state, state.chars.slice(state.cursor), 0);

/** Ctrl+K: delete everything from the cursor on. */
export const deleteToEnd = (state: EditorState) =>
  edited(state, state.chars.slice(0, state.cursor), state.cursor);

function showing(state: EditorState, text: string, browsing: EditorState['browsing']): EditorState {
  const chars = graphemes(text);
  return { ...state, chars, cursor: chars.length, browsing, completion: undefined };
}

/** Up: the previous sent line; the draft is kept and comes back on Down. */
export function historyUp(state: EditorState): EditorState {
  if (state.history.length === 0) return state;
  const index = state.browsing ? state.browsing.index - 1 : state.history.length - 1;
  if (index < 0) return state;
  const draft = state.browsing?.draft ?? textOf(state);
  return showing(state, state.history[index]!, { index, draft });
}

export function historyDown(state: EditorState): EditorState {
  if (!state.browsing) return state;
  const index = state.browsing.index + 1;
  if (index >= state.history.length) return showing(state, state.browsing.draft, undefined);
  return showing(state, state.history[index]!, { index, draft: state.browsing.draft });
}

/** Enter: the line to send and a cleared editor that remembers it. */
export function submit(state: EditorState, remember = true): { line: string; state: EditorState } {
  const line = textOf(state);
  const keep = remember && line.trim() !== '' && state.history.at(-1) !== line;
  const history = keep ? [...state.history, line].slice(-HISTORY_LIMIT) : state.history;
  return { line, state: emptyEditor(history) };
}

/** What can complete a word: commands after `/`, rooms after `#`, nicknames elsewhere. */
export interface CompletionSource {
  readonly commands: readonly string[];
  readonly rooms: readonly string[];
  readonly nicks: readonly string[];
}

function candidatesFor(word: string, atLineStart: boolean, source: CompletionSource): string[] {
  const lower = word.toLowerCase();
  const matching = (list: readonly string[], prefix: string, strip: string) =>
    [...new Set(list)]
      .filter((item) => item.toLowerCase().startsWith(lower.slice(strip.length)))
      .sort((a, b) => a.localeCompare(b))
      .map((item) => prefix + item);
  if (atLineStart && (word.startsWith('/') || word.startsWith('!')))
    return matching(source.commands, word[0]!, word[0]!).map((item) => item + ' ');
  if (word.startsWith('#')) return matching(source.rooms, '#', '#').map((item) => item + ' ');
  if (word.startsWith('@')) return matching(source.nicks, '@', '@').map((item) => item + ' ');
  const suffix = atLineStart ? ': ' : ' ';
  return [
    ...matching(source.nicks, '', '').map((item) => item + suffix),
    ...matching(source.rooms, '', '').map((item) => item + ' '),
  ].filter((item, index, all) => all.indexOf(item) === index);
}

/**
 * Tab: completes the word before the cursor; pressing Tab again cycles through the other
 * candidates. Any other edit ends the cycle.
 */
export function complete(state: EditorState, source: CompletionSource): EditorState {
  if (state.completion) {
    const { start, candidates, tail } = state.completion;
    const index = (state.completion.index + 1) % candidates.length;
    const word = graphemes(candidates[index]!);
    return {
      ...state,
      chars: [...state.chars.slice(0, start), ...word, ...tail],
      cursor: start + word.length,
      completion: { ...state.completion, index },
    };
  }
  const start = wordStartBefore(state.chars, state.cursor);
  if (start === state.cursor) return state;
  const word = state.chars.slice(start, state.cursor).join('');
  const firstWordStart = state.chars.findIndex((char) => !isSpace(char));
  const candidates = candidatesFor(word, start === firstWordStart, source);
  if (candidates.length === 0) return state;
  const tail = state.chars.slice(state.cursor);
  const chosen = graphemes(candidates[0]!);
  return {
    ...state,
    chars: [...state.chars.slice(0, start), ...chosen, ...tail],
    cursor: start + chosen.length,
    browsing: undefined,
    completion: candidates.length > 1 ? { start, candidates, index: 0, tail } : undefined,
  };
}
