import { afterEach, describe, expect, it } from 'vitest';
import { LocalDirectory, type DirectoryEntry } from '../src/core/directory/directory.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { PASSWORD, collect, gate } from './helpers/events.js';
import { lateAppend } from './helpers/late-store.js';
import { startTestNodes, type TestNodes } from './helpers/nodes.js';

let cluster: TestNodes | undefined;
afterEach(async () => {
  await cluster?.dispose();
  cluster = undefined;
});

/**
 * The shared directory, but a claim that replaces a session (a login over one's own
 * session) waits at a gate once it has started: by then the old session has ended, and
 * the new one does not exist yet. What is fanned out meanwhile falls in that gap.
 */
class GatedDirectory extends LocalDirectory {
  readonly claiming = gate();
  readonly proceed = gate();

  override async claim(entry: DirectoryEntry, replacing?: string): Promise<DirectoryEntry | null> {
    // (A claim naming its own session is an account change: `register`.)
    if (replacing !== undefined && replacing !== entry.session) {
      this.claiming.open();
      await this.proceed.promise;
    }
    return super.claim(entry, replacing);
  }
}

/** Texts of the message and private events with `text`, live or replayed. */
function copies(events: readonly ServerEvent[], text: string): ServerEvent[] {
  return events.filter(
    (event) =>
      (event.ev === 'message' || event.ev === 'private') &&
      (event as { text?: string }).text === text,
  );
}

describe('a login over one’s own session while a message is on its way', () => {
  it.each([
    { kind: 'say', newNode: 0 },
    { kind: 'say', newNode: 1 },
    { kind: 'msg', newNode: 0 },
    { kind: 'msg', newNode: 1 },
  ] as const)(
    'a $kind stamped before the old session ends and fanned out before the new one starts arrives once (new login on node $newNode)',
    async ({ kind, newNode }) => {
      const slowStored = gate();
      const slowGate = gate();
      const directory = new GatedDirectory();
      cluster = await startTestNodes(2, {
        directory,
        wrapStore: (store) => lateAppend(store, 'slow', slowStored.open, slowGate.promise),
      });
      const carol = await cluster.connect(0, 'carol');
      await carol.request('register', { password: PASSWORD });
      const alice = await cluster.connect(1, 'alice');
      const atOld = collect(carol);
      const oldClosed = carol.closed();
      const slowSent =
        kind === 'say'
          ? alice.request('say', { text: 'slow' })
          : alice.request('msg', { to: ['carol'], text: 'slow' });
      // Stamped and stored, not yet fanned out.
      await slowStored.promise;

      const back = await cluster.open(newNode);
      const atNew = collect(back);
      const login = back.login('carol', PASSWORD, { takeover: true });
      // The old session has ended; the new one waits for its claim.
      await directory.claiming.promise;
      expect((await oldClosed).code).toBe('replaced');
      slowGate.open();
      // Fanned out (the in-process bus hands an envelope to every node at once) before the
      // sender's reply.
      await slowSent;
      // And one stamped after the old session's end, in the gap: the new login's replay
      // carries it too, and it must still come once.
      await (kind === 'say'
        ? alice.request('say', { text: 'gap' })
        : alice.request('msg', { to: ['carol'], text: 'gap' }));
      directory.proceed.open();
      await login;
      // A round trip: the login backlog, sent right after the login reply, has arrived.
      await back.request('ping');
      // Whatever was on its way to the new session has come once 'after' has.
      const after = back.waitFor((event) => event.ev === 'message' && event.text === 'after');
      await alice.request('say', { text: 'after' });
      await after;

      expect([...copies(atOld, 'slow'), ...copies(atNew, 'slow')]).toHaveLength(1);
      expect([...copies(atOld, 'gap'), ...copies(atNew, 'gap')]).toHaveLength(1);
    },
  );
});
