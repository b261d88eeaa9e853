import { useRef, useState } from 'preact/hooks';
import type { WebSession } from './session.js';

/** The message box: text, `/commands`, Up/Down for what was typed before. */
export function Composer({ session }: { session: WebSession }) {
  const [text, setText] = useState('');
  const history = useRef<string[]>([]);
  const position = useRef(-1);
  const fileInput = useRef<HTMLInputElement>(null);
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
        id="message"
        name="message"
        autocomplete="off"
        placeholder={
          current.kind === 'private'
            ? `Message ${current.participants.join(', ')}`
            : `Message ${current.name === 'lobby' ? 'the lobby' : `#${current.name}`} or type /help`
        }
        aria-describedby={max ? 'message-limit' : undefined}
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={onKeyDown}
      />
      {max && (
        <span id="message-limit" class="visually-hidden">
          At most {max} characters
        </span>
      )}
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
