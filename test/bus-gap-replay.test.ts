import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/client.js';
import { replayBusGap } from '../src/core/nodes/bus-gap-replay.js';
import type { ServerEvent } from '../src/protocol/events.js';
import { PASSWORD, collect, until } from './helpers/events.js';
import { CuttableBus, startTestNodes, type TestNodes } from './helpers/nodes.js';

// A node whose bus was cut off for a while (Redis restarted, or its connection to Redis
// broke) missed what the other nodes fanned out meanwhile. Once back, it replays from the
// store what its sessions were sent and it never received: each once, marked missed,
// nothing it did receive, nothing of their own or from someone they block.

let cluster: TestNodes | undefined;
afterEach(async () => {
  await cluster?.dispose();
  cluster = undefined;
});

type Heard = { text: string; replay: string | undefined };

function messagesOf(events: readonly ServerEvent[]): Heard[] {
  return events.flatMap((event) =>
    event.ev === 'message' || event.ev === 'private'
      ? [{ text: event.text, replay: event.replay }]
      : [],
  );
}

async function register(client: ChatClient): Promise<void> {
  await client.request('register', { password: PASSWORD });
}

describe('a node back after a gap in its bus', () => {
  it('replays to its sessions what was sent to them meanwhile, once, and nothing they had', async () => {
    const buses: CuttableBus[] = [];
    cluster = await startTestNodes(2, {
      wrapBus: (bus) => {
        const cuttable = new CuttableBus(bus);
        buses.push(cuttable);
        return cuttable;
      },
    });
    const [, second] = cluster.nodes;
    const alice = await cluster.connect(0, 'alice');
    const mallory = await cluster.connect(0, 'mallory');
    const bob = await cluster.connect(1, 'bob');
    await register(bob);
    const gus = await cluster.connect(1, 'gus');
    await alice.request('create', { room: 'dev' });
    await bob.request('join', { room: 'dev' });
    await bob.request('block', { name: 'mallory' });
    const bobHeard = collect(bob);
    const gusHeard = collect(gus);
    await alice.request('say', { text: 'before the gap' });
    await until('the message before the gap', () =>
      messagesOf(gusHeard).some((each) => each.text === 'before the gap'),
    );

    buses[1]!.cut = true;
    const downSince = Date.now();
    await alice.request('say', { text: 'lobby during' });
    await alice.request('say', { room: 'dev', text: 'dev during' });
    await alice.request('msg', { to: ['bob'], text: 'to bob during' });
    await alice.request('msg', { to: ['gus'], text: 'to gus during' });
    await mallory.request('say', { text: 'from mallory during' });
    await bob.request('say', { text: 'bob during' });
    buses[1]!.cut = false;
    await alice.request('say', { text: 'after the gap' });
    await until('the message after the gap', () =>
      messagesOf(gusHeard).some((each) => each.text === 'after the gap'),
    );

    await replayBusGap(second!.core, downSince);
    await bob.request('ping');
    await gus.request('ping');
    expect(messagesOf(bobHeard)).toEqual([
      { text: 'before the gap', replay: undefined },
      { text: 'after the gap', replay: undefined },
      { text: 'lobby during', replay: 'missed' },
      { text: 'dev during', replay: 'missed' },
      { text: 'to bob during', replay: 'missed' },
    ]);
    // Bob's own message reached gus (on bob's node) only through the bus, so it is replayed.
    expect(messagesOf(gusHeard)).toEqual([
      { text: 'before the gap', replay: undefined },
      { text: 'after the gap', replay: undefined },
      { text: 'lobby during', replay: 'missed' },
      { text: 'to gus during', replay: 'missed' },
      { text: 'from mallory during', replay: 'missed' },
      { text: 'bob during', replay: 'missed' },
    ]);
    const told = (events: readonly ServerEvent[]) =>
      events.filter((event) => event.ev === 'notice' && event.text.includes('lost touch'));
    expect(told(bobHeard)).toHaveLength(1);
    expect(told(gusHeard)).toHaveLength(1);
    // Shown as missed is read: bob's inbox has nothing unread.
    const inbox = await bob.request<{ messages: unknown[] }>('inbox', {});
    expect(inbox.messages).toEqual([]);

    // A second replay of the same window (the bus flapping) sends nothing again.
    const before = bobHeard.length;
    await replayBusGap(second!.core, downSince);
    await bob.request('ping');
    expect(messagesOf(bobHeard.slice(before))).toEqual([]);
  });
});
