import { useEffect, useRef, useState } from 'preact/hooks';
import { ChatView } from './ChatView.js';
import { focusIfIdle } from './focus.js';
import { QuestionDialog } from './QuestionDialog.js';
import type { WebSession } from './session.js';
import { useSessionVersion } from './use-session.js';

export function App({ session }: { session: WebSession }) {
  useSessionVersion(session);
  return (
    <>
      {session.phase === 'chat' ? <ChatView session={session} /> : <LoginView session={session} />}
      {session.question && <QuestionDialog key={session.question.id} question={session.question} />}
    </>
  );
}

function LoginView({ session }: { session: WebSession }) {
  const [nick, setNick] = useState(session.state.nick ?? '');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const nickInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const takeOver = useRef<HTMLButtonElement>(null);
  const connection = session.state.connection;
  // The form opens ready to type into: the nickname, or the password when the tab
  // remembers who you were (after a logout, a kick, a lost session).
  useEffect(() => focusIfIdle(nick ? passwordInput.current : nickInput.current), []);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy || nick.trim() === '') return;
    setBusy(true);
    await session.login(nick.trim(), password);
    setBusy(false);
  };
  const offer = session.takeoverOffer;
  // The takeover question is asked where the focus is: on its first answer.
  useEffect(() => {
    if (offer) takeOver.current?.focus();
  }, [offer]);
  const cancelTakeover = () => {
    session.takeoverOffer = undefined;
    session.changed();
    passwordInput.current?.focus();
  };
  return (
    <main class="login" aria-labelledby="login-title">
      <form class="login-card" onSubmit={submit}>
        <h1 id="login-title">Confab</h1>
        <p class="status" role="status">
          {connection.kind === 'connected'
            ? `Connected to ${session.state.server || 'the server'}`
            : connection.kind === 'reconnecting'
              ? `Cannot reach the server: trying again in ${connection.inSeconds} s`
              : 'Connecting…'}
        </p>
        <label for="nick">Nickname</label>
        <input
          ref={nickInput}
          id="nick"
          name="nick"
          autocomplete="username"
          maxLength={32}
          required
          value={nick}
          onInput={(event) => setNick(event.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          ref={passwordInput}
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          aria-describedby="password-hint"
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <p id="password-hint" class="hint">
          Leave it empty to join as a guest. Register a nickname later with /register.
        </p>
        {session.loginError && (
          <p class="error" role="alert">
            {session.loginError}
          </p>
        )}
        {offer && (
          <div
            class="takeover"
            role="alertdialog"
            aria-labelledby="takeover-text"
            onKeyDown={(event) => {
              if (event.key !== 'Escape') return;
              event.preventDefault();
              cancelTakeover();
            }}
          >
            <p id="takeover-text">
              {offer.nick} is logged in elsewhere. Take over that session? The other one will be
              closed.
            </p>
            <button
              ref={takeOver}
              type="button"
              onClick={() => void session.login(offer.nick, offer.password, true)}
            >
              Take over
            </button>
            <button type="button" class="secondary" onClick={cancelTakeover}>
              Cancel
            </button>
          </div>
        )}
        <button type="submit" disabled={busy || connection.kind !== 'connected'}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
