import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { complete, textOf, type EditorState } from '../../src/client/tui/line-editor.js';
import { graphemes } from '../../src/client/tui/text-width.js';
import type { WebSession } from './session.js';

/**
 * The message box: text, `/commands`, Up/Down for what was typed before, and Tab to
 * complete the word before the cursor (the terminal client's rules: commands after `/`,
 * rooms after `#`, nicknames elsewhere; Tab again cycles), PageUp/PageDown to scroll the
 * conversation. With nothing to complete, Tab moves the focus as usual, so the page stays
 * reachable by keyboard.
 */
export function Composer({ session }: { session: WebSession }) {
  const [text, setText] = useState('');
  const history = useRef<string[]>([]);
  const position = useRef(-1);
  const fileInput = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLInputElement>(null);
  /** The completion in progress, while the box still holds what it wrote. */
  const completing = useRef<{ text: string; state: EditorState } | undefined>(undefined);
  /** Where the caret goes after the next render (a code-unit offset). */
  const caret = useRef<number | undefined>(undefined);
  useLayoutEffect(() => {
    if (caret.current === undefined || !box.current) return;
    box.current.setSelectionRange(caret.current, caret.current);
    caret.current = undefined;
  });
  const completeWord = (event: KeyboardEvent): void => {
    const element = event.currentTarget as HTMLInputElement;
    const value = element.value;
    const units = element.selectionStart ?? value.length;
    const before =
      completing.current?.text === value
        ? completing.current.state
        : {
            chars: graphemes(value),
            cursor: graphemes(value.slice(0, units)).length,
            history: [],
            browsing: undefined,
            completion: undefined,
          };
    const after = complete(before, session.completion());
    if (after === before) return;
    event.preventDefault();
    const completed = textOf(after);
    completing.current = after.completion ? { text: completed, state: after } : undefined;
    caret.current = after.chars.slice(0, after.cursor).join('').length;
    setText(completed);
  };
  const current = session.state.currentWindow;
  const submit = (event: Event) => {
    event.preventDefault();
    const line = text;
    if (line.trim() === '') return;
    history.current = [line, ...history.current.slice(0, 99)];
    position.current = -1;
    setText('');
    void session.submit(line);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Tab' && !event.shiftKey && !event.altKey && !event.ctrlKey) {
      completeWord(event);
      return;
    }
    if (event.key !== 'Shift') completing.current = undefined;
    if (event.key === 'PageUp' || event.key === 'PageDown') {
      // Scroll back without leaving the box, as in the terminal (the top loads older).
      const log = document.querySelector<HTMLElement>('.messages');
      if (log) log.scrollTop += (event.key === 'PageUp' ? -0.9 : 0.9) * log.clientHeight;
      event.preventDefault();
      return;
    }
    if (event.key === 'ArrowUp' && history.current.length > 0) {
      position.current = Math.min(position.current + 1, history.current.length - 1);
      setText(history.current[position.current] ?? '');
      event.preventDefault();
    } else if (event.key === 'ArrowDown' && position.current >= 0) {
      position.current -= 1;
      setText(position.current < 0 ? '' : (history.current[position.current] ?? ''));
      event.preventDefault();
    }
  };
  const target =
    current.kind === 'private' && current.participants.length === 1
      ? current.participants[0]
      : undefined;
  const max = session.limits?.messageMaxLength;
  return (
    <form class="composer" onSubmit={submit}>
      <label for="message" class="visually-hidden">
        Message
      </label>
      <input
        ref={box}
        id="message"
        name="message"
        autocomplete="off"
        placeholder={
          current.kind === 'private'
            ? `Message ${current.participants.join(', ')}`
            : `Message ${current.name === 'lobby' ? 'the lobby' : `#${current.name}`} or type /help`
        }
        aria-describedby={max ? 'message-limit message-hint' : 'message-hint'}
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={onKeyDown}
      />
      {max && (
        <span id="message-limit" class="visually-hidden">
          At most {max} characters
        </span>
      )}
      <span id="message-hint" class="visually-hidden">
        Tab completes commands, #rooms and nicknames; /menu lists the commands
      </span>
      <input
        ref={fileInput}
        type="file"
        class="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        onChange={async (event) => {
          const file = event.currentTarget.files?.[0];
          event.currentTarget.value = '';
          if (!file) return;
          let to = target;
          if (!to) {
            const answer = await session.ask({
              label: `Send ${file.name} to (a nickname; leave empty to share it with everyone)`,
              mode: 'text',
            });
            if (answer === undefined) return;
            to = typeof answer === 'string' && answer.trim() ? answer.trim() : undefined;
          }
          await session.sendFile(file, to);
        }}
      />
      <button type="button" class="secondary" onClick={() => fileInput.current?.click()}>
        Attach file
      </button>
      <button type="submit">Send</button>
    </form>
  );
}
