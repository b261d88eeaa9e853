import { describe, expect, it } from 'vitest';
import { EventFactory } from '../src/core/events.js';
import { applyEvent } from '../src/client/tui/apply-event.js';
import { ChatState } from '../src/client/tui/chat-state.js';
import { NodeIds } from '../src/core/ids/node-ids.js';

const events = new EventFactory(
  () => 1_763_790_000_000,
  await NodeIds.start(
    async () => 1,
    () => undefined,
  ),
);

describe('completion names from events', () => {
  it('learns who is online from live messages, not from replayed ones', () => {
    const state = new ChatState();
    state.nick = 'alice';
    applyEvent(
      state,
      events.make({ ev: 'message', mid: 1, room: 'lobby', from: 'bob', text: 'hi' }),
    );
    applyEvent(
      state,
      events.make({ ev: 'private', mid: 2, from: 'carol', to: ['alice'], text: 'psst' }),
    );
    applyEvent(
      state,
      events.make({
        ev: 'message',
        mid: 3,
        room: 'lobby',
        from: 'dave',
        text: 'old news',
        replay: 'history',
      }),
    );
    expect([...state.nicks].sort()).toEqual(['bob', 'carol']);
    applyEvent(state, events.make({ ev: 'offline', nick: 'bob', reason: 'quit' }));
    expect([...state.nicks]).toEqual(['carol']);
  });
});
