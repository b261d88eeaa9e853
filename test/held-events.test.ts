import { describe, expect, it } from 'vitest';
import type { ChatEvent } from '../src/core/events.js';
import { Link, Session, type Outlet, type ServerFrame } from '../src/core/session.js';

/** A session whose connection records what it is sent. */
function recordingSession(): { session: Session; sent: ServerFrame[] } {
  const sent: ServerFrame[] = [];
  const outlet: Outlet = {
    transport: 'test',
    address: '127.0.0.1',
    port: 0,
    send: (frame) => sent.push(frame),
    close() {},
  };
  const link = new Link('c1', outlet, 0);
  const session = new Session({
    id: 's1',
    nick: 'carol',
    nickKey: 'carol',
    account: null,
    now: 0,
    link,
  });
  return { session, sent };
}

let nextId = 1;
function live(mid: number, text: string): ChatEvent {
  return { ev: 'message', mid, room: 'lobby', from: 'alice', text, id: nextId++, ts: 0 };
}
function missed(mid: number, text: string): ChatEvent {
  return {
    ev: 'message',
    mid,
    room: 'lobby',
    from: 'alice',
    text,
    replay: 'missed',
    id: nextId++,
    ts: 0,
  };
}

const texts = (sent: ServerFrame[]) => sent.map((frame) => (frame as { text?: string }).text);

describe('live events held while a replay is read', () => {
  it('come after the replay, the live copy of a replayed message dropped, the rest kept', () => {
    const { session, sent } = recordingSession();
    const release = session.holdEvents();
    // The live copy of the replayed message, then a newer one: once the copy has matched,
    // nothing replayed is left to match, and the newer one must still come.
    session.deliver(live(5, 'five'));
    session.deliver(live(6, 'six'));
    release([missed(5, 'five')], [5]);
    expect(texts(sent)).toEqual(['five', 'six']);
    expect(sent.map((frame) => (frame as { replay?: string }).replay)).toEqual([
      'missed',
      undefined,
    ]);
    session.deliver(live(7, 'seven'));
    expect(texts(sent)).toEqual(['five', 'six', 'seven']);
  });

  it('come after an empty replay', () => {
    const { session, sent } = recordingSession();
    const release = session.holdEvents();
    session.deliver(live(8, 'eight'));
    release([], []);
    session.deliver(live(9, 'nine'));
    expect(texts(sent)).toEqual(['eight', 'nine']);
  });
});
