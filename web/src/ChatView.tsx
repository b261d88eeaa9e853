import { useEffect, useRef, useState } from 'preact/hooks';
import { LOBBY_WINDOW } from '../../src/client/tui/chat-state.js';
import { formatBytes } from '../../src/client/bytes.js';
import { AdminPanel } from './AdminPanel.js';
import { Composer } from './Composer.js';
import { focusIfIdle } from './focus.js';
import { Members } from './Members.js';
import { MessageList } from './MessageList.js';
import type { WebSession } from './session.js';

export function ChatView({ session }: { session: WebSession }) {
  const { state } = session;
  const current = state.currentWindow;
  const [showMembers, setShowMembers] = useState(false);
  const [showAdmin, setShowAdmin] = useState(false);
  const [dragging, setDragging] = useState(false);
  const membersToggle = useRef<HTMLButtonElement>(null);
  const adminToggle = useRef<HTMLButtonElement>(null);
  // Logged in (or back in a resumed tab): ready to type.
  useEffect(() => focusIfIdle(document.getElementById('message')), []);
  const topic = session.topics.get(current.id);
  const title =
    current.kind === 'room'
      ? current.name === 'lobby'
        ? 'Lobby'
        : `#${current.name}`
      : people(current.participants);

  const onDrop = async (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    let to: string | undefined;
    if (current.kind === 'private' && current.participants.length === 1)
      to = current.participants[0];
    else {
      const answer = await session.ask({
        label: `Send ${file.name} to (a nickname; leave empty to share it with everyone)`,
        mode: 'text',
      });
      if (answer === undefined) return;
      to = typeof answer === 'string' && answer.trim() !== '' ? answer.trim() : undefined;
    }
    await session.sendFile(file, to);
  };

  return (
    <div
      class={`chat-layout${dragging ? ' dragging' : ''}`}
      onKeyDown={(event) => {
        // Alt+Up / Alt+Down: the previous or next conversation, wherever the focus is
        // (Alt+digits and Ctrl+N/P, the terminal's keys, belong to the browser here).
        if (!event.altKey || event.ctrlKey || event.metaKey || session.question) return;
        if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
        event.preventDefault();
        const windows = state.windows;
        const at = windows.findIndex((window) => window.id === state.current);
        const next =
          windows[(at + (event.key === 'ArrowUp' ? -1 : 1) + windows.length) % windows.length];
        if (next) session.switchTo(next.id);
      }}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => void onDrop(event)}
    >
      <a class="skip-link" href="#message" onClick={skipToMessageBox}>
        Skip to the message box
      </a>
      <nav class="windows" aria-label="Conversations">
        <ul>
          {state.windows.map((window) => (
            <li key={window.id}>
              <button
                type="button"
                class={`window${window.id === state.current ? ' current' : ''}${window.mentioned ? ' mentioned' : ''}`}
                aria-current={window.id === state.current ? 'page' : undefined}
                onClick={() => session.switchTo(window.id)}
              >
                <span class="name">
                  {window.kind === 'room'
                    ? window.name === 'lobby'
                      ? 'Lobby'
                      : `#${window.name}`
                    : `@${people(window.participants)}`}
                </span>
                {window.unread > 0 && (
                  <span class="badge" aria-label={`${window.unread} unread`}>
                    {window.unread}
                  </span>
                )}
              </button>
              {window.id !== LOBBY_WINDOW && (
                <button
                  type="button"
                  class="close"
                  aria-label={
                    window.kind === 'room'
                      ? `Leave ${window.name}`
                      : `Close ${people(window.participants)}`
                  }
                  onClick={() => session.closeWindow(window.id)}
                >
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
        <form
          class="join"
          onSubmit={(event) => {
            event.preventDefault();
            const input = event.currentTarget.elements.namedItem('room') as HTMLInputElement;
            const room = input.value.trim().replace(/^#/, '');
            input.value = '';
            if (room)
              void session
                .joinOrCreate(room)
                .then(() => document.getElementById('message')?.focus());
          }}
        >
          <label for="join-room">Join or create a room</label>
          <input id="join-room" name="room" placeholder="room" />
        </form>
      </nav>
      <main class="conversation" aria-labelledby="window-title">
        <header class="window-header">
          <div>
            <h1 id="window-title">{title}</h1>
            {topic && <p class="topic">{topic}</p>}
          </div>
          <div class="header-actions">
            <span class={`connection ${state.connection.kind}`} role="status">
              {state.connection.kind === 'connected'
                ? `${state.nick ?? ''}${state.role !== 'guest' ? ` (${state.role})` : ' (guest)'}`
                : state.connection.kind === 'reconnecting'
                  ? `Reconnecting in ${state.connection.inSeconds} s…`
                  : state.connection.kind === 'resuming'
                    ? 'Resuming…'
                    : 'Connecting…'}
            </span>
            <button
              ref={membersToggle}
              type="button"
              class="secondary members-toggle"
              aria-expanded={showMembers}
              aria-controls="members"
              onClick={() => setShowMembers(!showMembers)}
            >
              Members
            </button>
            {session.isAdmin && (
              <button
                ref={adminToggle}
                type="button"
                class="secondary"
                aria-expanded={showAdmin}
                aria-controls={showAdmin ? 'admin-tools' : undefined}
                onClick={() => setShowAdmin(!showAdmin)}
              >
                Admin
              </button>
            )}
            <button type="button" class="secondary" onClick={() => void session.submit('/quit')}>
              Log out
            </button>
          </div>
        </header>
        {showAdmin && session.isAdmin && (
          <AdminPanel
            session={session}
            onClose={() => {
              setShowAdmin(false);
              adminToggle.current?.focus();
            }}
          />
        )}
        <MessageList session={session} window={current} />
        {(session.transfers.length > 0 || session.offers.length > 0) && (
          <section class="files" aria-label="Files">
            {session.transfers.map((transfer) => (
              <div key={transfer.id} class="transfer">
                <label>
                  {transfer.direction === 'up' ? 'Sending' : 'Receiving'} {transfer.name}
                  <progress max={transfer.size || 1} value={transfer.done} />
                </label>
              </div>
            ))}
            {session.offers.map((offer) => (
              <div key={offer.file} class="offer">
                <span>
                  {offer.shared ? `Shared by ${offer.from}` : `From ${offer.from}`}: {offer.name} (
                  {formatBytes(offer.size)})
                </span>
                <button type="button" onClick={() => void session.fetchOffer(offer)}>
                  {offer.shared ? 'Download' : 'Accept'} {offer.name}
                </button>
                {!offer.shared && (
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => void session.declineOffer(offer)}
                  >
                    Decline {offer.name}
                  </button>
                )}
              </div>
            ))}
          </section>
        )}
        <Composer session={session} />
      </main>
      <Members
        session={session}
        window={current}
        open={showMembers}
        onClose={() => {
          setShowMembers(false);
          membersToggle.current?.focus();
        }}
      />
    </div>
  );
}

/** The skip link moves the focus, not only the view (and leaves the URL alone). */
function skipToMessageBox(event: Event): void {
  event.preventDefault();
  document.getElementById('message')?.focus();
}

/**
 * A conversation's people in one order whoever wrote first (a window opened by a reply
 * would otherwise be named `hal, gus` where the same one was `gus, hal` before).
 */
function people(participants: readonly string[]): string {
  return [...participants].sort((a, b) => a.localeCompare(b)).join(', ');
}
