import { describe, expect, it } from 'vitest';
import * as editor from '../src/client/tui/line-editor.js';
import { columns, visibleInput } from '../src/client/tui/text-width.js';

const typed = (text: string, history: string[] = []) =>
  editor.insert(editor.emptyEditor(history), text);

describe('line editor', () => {
  it('edits by user-perceived characters, not code units', () => {
    let state = typed('e\u0301👍🏽李');
    expect(state.chars).toEqual(['e\u0301', '👍🏽', '李']);
    state = editor.backspace(editor.left(state));
    expect(editor.textOf(state)).toBe('e\u0301李');
    expect(state.cursor).toBe(1);
  });

  it('moves and deletes like readline', () => {
    let state = typed('hello big world');
    state = editor.wordLeft(state);
    expect(state.cursor).toBe(10);
    state = editor.deleteWordBefore(state);
    expect(editor.textOf(state)).toBe('hello world');
    state = editor.home(state);
    state = editor.deleteForward(state);
    expect(editor.textOf(state)).toBe('ello world');
    state = editor.deleteToEnd(editor.right(state));
    expect(editor.textOf(state)).toBe('e');
    state = editor.insert(editor.end(typed('abc def')), 'X');
    expect(editor.textOf(editor.deleteToStart(editor.left(state)))).toBe('X');
  });

  it('drops control characters and turns pasted line breaks into spaces', () => {
    expect(editor.textOf(typed('a\x15b\x1b[31mc\r\nd'))).toBe('abc d');
  });

  it('walks history with Up/Down and gives back the draft', () => {
    let state = editor.submit(typed('first')).state;
    state = editor.submit(editor.insert(state, 'second')).state;
    state = editor.insert(state, 'draft');
    state = editor.historyUp(state);
    expect(editor.textOf(state)).toBe('second');
    state = editor.historyUp(editor.historyUp(state));
    expect(editor.textOf(state)).toBe('first');
    state = editor.historyDown(editor.historyDown(state));
    expect(editor.textOf(state)).toBe('draft');
  });

  it('completes commands, rooms and nicknames, cycling on repeated Tab', () => {
    const source = {
      commands: ['who', 'whoelse', 'msg'],
      rooms: ['lobby', 'dev'],
      nicks: ['Zoë', 'zack', 'bob'],
    };
    expect(editor.textOf(editor.complete(typed('/whoe'), source))).toBe('/whoelse ');
    let state = editor.complete(typed('/wh'), source);
    expect(editor.textOf(state)).toBe('/who ');
    state = editor.complete(state, source);
    expect(editor.textOf(state)).toBe('/whoelse ');
    expect(editor.textOf(editor.complete(typed('join #d'), source))).toBe('join #dev ');
    expect(editor.textOf(editor.complete(typed('z'), source))).toBe('zack: ');
    state = editor.complete(typed('hi z'), source);
    expect(editor.textOf(state)).toBe('hi zack ');
    expect(editor.textOf(editor.complete(state, source))).toBe('hi Zoë ');
    // Text after the cursor stays where it was.
    const middle = editor.complete(editor.insert(editor.home(typed(' there')), '@bo'), source);
    expect(editor.textOf(editor.end(middle))).toBe('@bob  there');
  });
});

describe('input width', () => {
  it('keeps the cursor visible and never splits a wide character', () => {
    const chars = [...'李雷韩梅梅你好世界朋友们'];
    for (let cursor = 0; cursor <= chars.length; cursor += 1) {
      const view = visibleInput(chars, cursor, 9);
      expect(columns(view.before + view.atCursor + view.after)).toBeLessThanOrEqual(9);
      expect(view.atCursor).toBe(chars[cursor] ?? ' ');
    }
  });
});
