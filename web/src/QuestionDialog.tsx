import { useEffect, useRef, useState } from 'preact/hooks';
import type { Question } from './session.js';

/** A modal question: a password (masked), a typed confirmation, or a line of text. */
export function QuestionDialog({ question }: { question: Question }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, [question]);
  const confirmOk = question.mode !== 'confirm' || value.trim() === question.confirmWord;
  const submit = (event: Event) => {
    event.preventDefault();
    if (!confirmOk) return;
    question.answer(question.mode === 'confirm' ? true : value);
  };
  return (
    <dialog
      ref={dialog}
      class="question"
      aria-labelledby="question-label"
      onCancel={(event) => {
        event.preventDefault();
        question.answer(undefined);
      }}
    >
      <form onSubmit={submit}>
        <label id="question-label" for="question-input">
          {question.label}
        </label>
        {question.mode === 'secret' ? (
          <input
            id="question-input"
            type="password"
            autocomplete="current-password"
            value={value}
            onInput={(event) => setValue(event.currentTarget.value)}
          />
        ) : (
          <input
            id="question-input"
            type="text"
            autocomplete="off"
            value={value}
            onInput={(event) => setValue(event.currentTarget.value)}
          />
        )}
        <div class="buttons">
          <button type="submit" disabled={!confirmOk}>
            OK
          </button>
          <button type="button" class="secondary" onClick={() => question.answer(undefined)}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
