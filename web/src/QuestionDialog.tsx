import { useEffect, useRef, useState } from 'preact/hooks';
import type { Choice, Question } from './session.js';

/**
 * A modal question: a password (masked), a typed confirmation, a line of text, or a pick
 * from a list (the `/menu`: type to narrow it, Enter takes the first match, or Tab to a row).
 */
export function QuestionDialog({ question }: { question: Question }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, [question]);
  const matches = question.mode === 'choice' ? narrow(question.choices ?? [], value) : [];
  const confirmOk =
    question.mode === 'confirm'
      ? value.trim() === question.confirmWord
      : question.mode !== 'choice' || matches.length > 0;
  const submit = (event: Event) => {
    event.preventDefault();
    if (!confirmOk) return;
    if (question.mode === 'choice') return question.answer(matches[0]!.value);
    question.answer(question.mode === 'confirm' ? true : value);
  };
  return (
    <dialog
      ref={dialog}
      class={`question ${question.mode}`}
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
                <button type="button" onClick={() => question.answer(choice.value)}>
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
          <button type="button" class="secondary" onClick={() => question.answer(undefined)}>
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
