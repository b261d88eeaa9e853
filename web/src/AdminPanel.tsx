import type { WebSession } from './session.js';

/**
 * The admin commands that need no target: a row of buttons over the conversation (Escape
 * folds it away). Those that need a member are each member's actions in the list.
 */
export function AdminPanel({ session, onClose }: { session: WebSession; onClose: () => void }) {
  const withText = async (label: string, run: (text: string) => Promise<void>) => {
    const answer = await session.ask({ label, mode: 'text' });
    if (typeof answer === 'string' && answer.trim()) await run(answer.trim());
  };
  return (
    <section
      id="admin-tools"
      class="admin"
      aria-label="Admin tools"
      onKeyDown={(event) => {
        if (event.key !== 'Escape') return;
        event.preventDefault();
        onClose();
      }}
    >
      <button
        type="button"
        onClick={() =>
          void withText('Announcement to everyone', (text) => session.run('announce', { text }))
        }
      >
        Announce
      </button>
      <button type="button" onClick={() => void session.run('lock', {})}>
        Lock
      </button>
      <button type="button" onClick={() => void session.run('unlock', {})}>
        Unlock
      </button>
      <button type="button" onClick={() => void session.run('monitor', { state: 'on' })}>
        Monitor on
      </button>
      <button type="button" onClick={() => void session.run('monitor', { state: 'off' })}>
        Monitor off
      </button>
      <button type="button" onClick={() => void session.run('bans', {})}>
        Bans
      </button>
      <button type="button" onClick={() => void session.run('users', {})}>
        Accounts
      </button>
      <button type="button" onClick={() => void session.run('lockouts', {})}>
        Lockouts
      </button>
      <button type="button" onClick={() => void session.run('config', {})}>
        Config
      </button>
      <button
        type="button"
        class="danger"
        onClick={() =>
          void withText('Shut down in how many seconds?', (text) =>
            /^\d+$/.test(text)
              ? session.run('shutdown', { seconds: Number(text) })
              : Promise.resolve(session.notice('A number of seconds', 'error')),
          )
        }
      >
        Shutdown
      </button>
      <button type="button" onClick={() => void session.run('shutdown', { action: 'cancel' })}>
        Cancel shutdown
      </button>
    </section>
  );
}
