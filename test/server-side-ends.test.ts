import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/client.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { PASSWORD, collect, gate } from './helpers/events.js';
import { lateAppend } from './helpers/late-store.js';
import { startTestNodes, type TestNodes } from './helpers/nodes.js';
import { TEST_ADMIN_PASSWORD } from './helpers/server.js';

let cluster: TestNodes | undefined;
afterEach(async () => {
  await cluster?.dispose();
  cluster = undefined;
});

const texts = (events: readonly ServerEvent[]) =>
  events.flatMap((event) => (event.ev === 'message' || event.ev === 'private' ? [event.text] : []));

/** How each server-side end is brought about for carol, on node 0. */
const ends = {
  kick: (admin: ChatClient) => admin.request('kick', { nick: 'carol' }),
  ban: (admin: ChatClient) => admin.request('ban', { nick: 'carol' }),
  timeout: () => {
    const core = cluster!.nodes[0]!.core;
    // Idle for longer than the limit, as far as the sweep can tell.
    core.findSession('carol')!.lastInputAt = 0;
    core.admin.sweepIdleNow();
    return Promise.resolve();
  },
  shutdown: () => cluster!.nodes[0]!.stop(0),
} as const;

describe('a session the server ends while a message is on its way to it', () => {
  it.each(['kick', 'ban', 'timeout', 'shutdown'] as const)(
    '%s: a message stamped before it reaches the session or its next login, once',
    async (end) => {
      // 'slow' is stored before carol's session is ended, but its sender's node fans it
      // out only later: carol must get it before her session ends, or at her next login.
      const slowStored = gate();
      const slowGate = gate();
      cluster = await startTestNodes(2, {
        set: { idleTimeoutSeconds: 3600 },
        wrapStore: (store) => lateAppend(store, 'slow', slowStored.open, slowGate.promise),
      });
      const carol = await cluster.connect(0, 'carol');
      await carol.request('register', { password: PASSWORD });
      const alice = await cluster.connect(1, 'alice');
      const admin = await cluster.connect(1, 'admin', TEST_ADMIN_PASSWORD);
      const atCarol = collect(carol);
      const closed = carol.closed();
      const slowSent = alice.request('say', { text: 'slow' });
      await slowStored.promise;
      const ending = ends[end](admin);
      // The end reaches carol's node while 'slow' is still on its way.
      await new Promise((resolve) => setTimeout(resolve, 100));
      slowGate.open();
      await ending;
      await slowSent;
      await closed;
      if (end === 'ban') await admin.request('unban', { nick: 'carol' });

      const back = await cluster.open(1);
      const atBack = collect(back);
      await back.login('carol', PASSWORD);
      await back.request('ping');
      const copies = [...texts(atCarol), ...texts(atBack)].filter((text) => text === 'slow');
      expect(copies).toHaveLength(1);
    },
  );
});
