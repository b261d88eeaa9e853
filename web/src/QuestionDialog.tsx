import { useEffect, useRef, useState } from 'preact/hooks';
import type { Choice, Question } from './session.js';

/**
 * A modal question: a password (masked), a typed confirmation, a line of text, or a pick
 * from a list (the `/menu`: type to narrow it, Enter takes the first match, or Tab to a row).
 */
export function QuestionDialog({ question }: { question: Question }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');
  /** Each question is answered once (a cancel, then the dialog's own close, would be two). */
  const answered = useRef(false);
  const finish = (answer: string | boolean | undefined) => {
    if (answered.current) return;
    answered.current = true;
    question.answer(answer);
  };
  useEffect(() => {
    const element = dialog.current;
    // What had the focus gets it back when the dialog goes (the rescue in focus.ts takes
    // over when that control went meanwhile, as a kicked member's Kick button does).
    const opener = document.activeElement;
    if (element && !element.open) element.showModal();
    return () => {
      // Gone unanswered (another question took its place): its closing answers nothing.
      answered.current = true;
      element?.close();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, [question]);
  const matches = question.mode === 'choice' ? narrow(question.choices ?? [], value) : [];
  const confirmOk =
    question.mode === 'confirm'
      ? value.trim() === question.confirmWord
      : question.mode !== 'choice' || matches.length > 0;
  const submit = (event: Event) => {
    event.preventDefault();
    if (!confirmOk) return;
    if (question.mode === 'choice') return finish(matches[0]!.value);
    finish(question.mode === 'confirm' ? true : value);
  };
  return (
    <dialog
      ref={dialog}
      class={`question ${question.mode}`}
      aria-labelledby="question-label"
      onCancel={(event) => {
        event.preventDefault();
        finish(undefined);
      }}
      // Escape pressed again with no click or key in between closes a dialog without a
      // cancel event (the browser's guard against dialogs that will not go): still a no.
      onClose={() => finish(undefined)}
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
            aria-describedby={question.mode === 'confirm' ? 'question-hint' : undefined}
            aria-controls={question.mode === 'choice' ? 'question-choices' : undefined}
            placeholder={question.mode === 'choice' ? 'Type to narrow the list' : undefined}
            value={value}
            onInput={(event) => setValue(event.currentTarget.value)}
          />
        )}
        {question.mode === 'confirm' && (
          <p id="question-hint" class="hint">
            Type <kbd>{question.confirmWord}</kbd> to confirm.
          </p>
        )}
        {question.mode === 'choice' && (
          <ul id="question-choices" class="choices" aria-label="Commands">
            {matches.map((choice) => (
              <li key={choice.value}>
                <button type="button" onClick={() => finish(choice.value)}>
                  <span class="usage">{choice.label}</span>{' '}
                  <span class="detail">{choice.detail}</span>
                </button>
              </li>
            ))}
            {matches.length === 0 && <li class="none">Nothing matches</li>}
          </ul>
        )}
        <div class="buttons">
          <button type="submit" disabled={!confirmOk}>
            OK
          </button>
          <button type="button" class="secondary" onClick={() => finish(undefined)}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Choices whose name starts with the typed text first, then those that mention it. */
function narrow(choices: readonly Choice[], typed: string): readonly Choice[] {
  const word = typed.trim().replace(/^[/!]/, '').toLowerCase();
  if (word === '') return choices;
  const starts = choices.filter((choice) => choice.value.toLowerCase().startsWith(word));
  const mentions = choices.filter(
    (choice) =>
      !starts.includes(choice) && `${choice.label} ${choice.detail}`.toLowerCase().includes(word),
  );
  return [...starts, ...mentions];
}
