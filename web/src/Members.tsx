import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatWindow } from '../../src/client/tui/chat-state.js';
import type { WebSession } from './session.js';

/** Who is here, with what you can do to each: talk, look up, block; admins more. */
export function Members({
  session,
  window,
  open,
  onClose,
}: {
  session: WebSession;
  window: ChatWindow;
  /** Shown over the conversation (narrow screens, behind the Members button). */
  open: boolean;
  onClose: () => void;
}) {
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const panel = useRef<HTMLElement>(null);
  // Opened over the conversation: the focus goes in (Escape brings it back).
  useEffect(() => {
    if (open) panel.current?.querySelector('button')?.focus();
  }, [open]);
  const members = [
    ...(session.members.get(window.kind === 'room' ? window.id : '#lobby')?.values() ?? []),
  ].sort((a, b) => a.localeCompare(b));
  const me = session.state.nick;
  const owner = session.owners.get(window.id);
  const act = (command: string) => {
    if (selected) void session.submit(`/${command} ${selected}`);
  };
  const withReason = async (command: 'kick' | 'ban') => {
    if (!selected) return;
    const reason = await session.ask({
      label: `Reason to ${command} ${selected} (optional)`,
      mode: 'text',
    });
    if (reason === undefined) return;
    const args: Record<string, unknown> = { nick: selected };
    if (typeof reason === 'string' && reason.trim()) args.reason = reason.trim();
    await session.run(command, args);
  };
  return (
    <aside
      ref={panel}
      id="members"
      class={`members${open ? ' open' : ''}`}
      aria-label="Members"
      onKeyDown={(event) => {
        if (event.key !== 'Escape' || !open) return;
        event.preventDefault();
        onClose();
      }}
    >
      <h2>
        {window.kind === 'room' && window.name !== 'lobby' ? `In #${window.name}` : 'Online'} (
        {members.length})
      </h2>
      <ul>
        {members.map((nick) => (
          <li key={nick}>
            <button
              type="button"
              class="member"
              aria-expanded={selected === nick}
              onClick={() => setSelected(selected === nick ? undefined : nick)}
            >
              <bdi>{nick}</bdi>
              {owner && owner.toLowerCase() === nick.toLowerCase() ? ' (owner)' : ''}
              {me && me.toLowerCase() === nick.toLowerCase() ? ' (you)' : ''}
            </button>
            {selected === nick && (
              <div class="member-actions" role="group" aria-label={`Actions for ${nick}`}>
                <button
                  type="button"
                  onClick={() => {
                    session.openPrivate(nick);
                    if (open) onClose();
                    document.getElementById('message')?.focus();
                  }}
                >
                  Message
                </button>
                <button type="button" onClick={() => act('whois')}>
                  Whois
                </button>
                <button type="button" onClick={() => act('block')}>
                  Block
                </button>
                <button type="button" onClick={() => act('unblock')}>
                  Unblock
                </button>
                {session.isAdmin && (
                  <>
                    <button type="button" class="danger" onClick={() => void withReason('kick')}>
                      Kick
                    </button>
                    <button type="button" class="danger" onClick={() => void withReason('ban')}>
                      Ban
                    </button>
                    <button type="button" onClick={() => act('suspend')}>
                      Suspend
                    </button>
                    <button type="button" onClick={() => act('forgive')}>
                      Forgive
                    </button>
                  </>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
      <div class="member-tools">
        <button type="button" class="secondary" onClick={() => void session.submit('/who')}>
          Who is online
        </button>
        <button type="button" class="secondary" onClick={() => void session.submit('/wholasthr')}>
          Recently seen
        </button>
        <button type="button" class="secondary" onClick={() => void session.submit('/inbox')}>
          Inbox
        </button>
        <button type="button" class="secondary" onClick={() => void session.submit('/files')}>
          Files
        </button>
        <button type="button" class="secondary" onClick={() => void session.submit('/blocked')}>
          Blocked
        </button>
        {session.state.role === 'guest' ? (
          <button type="button" class="secondary" onClick={() => void session.submit('/register')}>
            Register this nickname
          </button>
        ) : (
          <>
            <button type="button" class="secondary" onClick={() => void session.submit('/passwd')}>
              Change password
            </button>
            <button
              type="button"
              class="secondary"
              onClick={() => void session.submit('/deregister')}
            >
              Delete account
            </button>
          </>
        )}
        <button type="button" class="secondary" onClick={() => void session.enableNotifications()}>
          Notifications
        </button>
      </div>
    </aside>
  );
}
