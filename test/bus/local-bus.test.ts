import { describe, expect, it } from 'vitest';
import type { BusEnvelope, Query } from '../../src/bus/bus.js';
import { NodeLiveness } from '../../src/bus/liveness.js';
import { LocalBus, LocalBusNetwork } from '../../src/bus/local-bus.js';
import { BusRequests } from '../../src/bus/requests.js';
import { systemClock } from '../../src/core/clock.js';
import { ManualClock } from '../helpers/manual-clock.js';

function notice(origin: string, text: string): BusEnvelope {
  return {
    type: 'event',
    origin,
    target: { kind: 'everyone' },
    event: { ev: 'notice', text, id: 1, ts: 0 },
  };
}

function textOf(envelope: BusEnvelope): string | undefined {
  return envelope.type === 'event' && envelope.event.ev === 'notice'
    ? envelope.event.text
    : undefined;
}

function texts(received: BusEnvelope[]): Array<string | undefined> {
  return received.map(textOf);
}

describe('the in-process bus', () => {
  it('publishes to every node, itself included, and sends to one node only', () => {
    const network = new LocalBusNetwork();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => network.join(id));
    const got = new Map<string, BusEnvelope[]>();
    for (const bus of [a!, b!, c!]) {
      got.set(bus.nodeId, []);
      bus.subscribe((envelope) => got.get(bus.nodeId)!.push(envelope));
    }
    a!.publish(notice('a', 'all'));
    a!.sendTo('c', notice('a', 'just c'));
    expect(texts(got.get('a')!)).toEqual(['all']);
    expect(texts(got.get('b')!)).toEqual(['all']);
    expect(texts(got.get('c')!)).toEqual(['all', 'just c']);
  });

  it('keeps each origin in order even when a handler sends while one is handed out', () => {
    const network = new LocalBusNetwork();
    const a = network.join('a');
    const b = network.join('b');
    const c = network.join('c');
    const atC: string[] = [];
    // b answers a's first envelope by making a send a second one: c must still see a's
    // first before a's second.
    b.subscribe((envelope) => {
      if (textOf(envelope) === 'one') a.publish(notice('a', 'two'));
    });
    c.subscribe((envelope) => {
      if (envelope.origin === 'a') atC.push(textOf(envelope) ?? '?');
    });
    a.publish(notice('a', 'one'));
    expect(atC).toEqual(['one', 'two']);
  });

  it('a closed node gets nothing more and sends nothing', async () => {
    const network = new LocalBusNetwork();
    const a = network.join('a');
    const b = network.join('b');
    const atB: BusEnvelope[] = [];
    const atA: BusEnvelope[] = [];
    b.subscribe((envelope) => atB.push(envelope));
    a.subscribe((envelope) => atA.push(envelope));
    await b.close();
    a.publish(notice('a', 'after'));
    b.publish(notice('b', 'from the dead'));
    expect(atB).toEqual([]);
    expect(texts(atA)).toEqual(['after']);
    expect(() => network.join('a')).toThrow(/already/);
  });

  it('a bus of its own is a single node', () => {
    const bus = new LocalBus();
    const got: BusEnvelope[] = [];
    bus.subscribe((envelope) => got.push(envelope));
    bus.publish(notice(bus.nodeId, 'self'));
    expect(texts(got)).toEqual(['self']);
  });
});

describe('requests across nodes', () => {
  function node(network: LocalBusNetwork, id: string, nicks: string[], timeoutMs = 2_000) {
    const bus = network.join(id);
    const requests = new BusRequests(
      bus,
      systemClock,
      (query: Query) => {
        if (query.type === 'takeover') throw new Error('cannot');
        return {
          type: 'sessions',
          sessions: nicks.map((nick) => ({
            id: `${id}-${nick}`,
            node: id,
            nick,
            nickKey: nick,
            account: null,
            loginAt: 0,
            lastInputAt: 0,
            away: null,
            connected: true,
            address: null,
            rooms: [],
          })),
        };
      },
      timeoutMs,
    );
    bus.subscribe((envelope) => {
      if (envelope.type === 'request' || envelope.type === 'response') requests.handle(envelope);
    });
    return { bus, requests };
  }

  it('gathers every node’s answer, and one node’s', async () => {
    const network = new LocalBusNetwork();
    const a = node(network, 'a', ['ann']);
    node(network, 'b', ['bob', 'bea']);
    node(network, 'c', []);
    const answers = await a.requests.askAll(['a', 'b', 'c'], { type: 'who' });
    const nicks = answers.flatMap((answer) => (answer.type === 'sessions' ? answer.sessions : []));
    expect(nicks.map((session) => session.nick).sort()).toEqual(['ann', 'bea', 'bob']);
    const fromB = await a.requests.ask('b', { type: 'who' });
    expect(fromB.type === 'sessions' && fromB.sessions.map((s) => s.node)).toEqual(['b', 'b']);
  });

  it('a failing answer is a refusal; a silent node is left out after the timeout', async () => {
    const network = new LocalBusNetwork();
    const a = node(network, 'a', ['ann'], 50);
    node(network, 'b', ['bob']);
    expect(await a.requests.ask('b', { type: 'takeover', session: 'x' })).toEqual({
      type: 'done',
      ok: false,
    });
    // 'gone' is believed alive but is not on the network.
    const answers = await a.requests.askAll(['a', 'b', 'gone'], { type: 'who' });
    expect(answers).toHaveLength(2);
    await expect(a.requests.ask('gone', { type: 'who' })).rejects.toThrow(/did not answer/);
  });
});

describe('node liveness', () => {
  it('learns of nodes from heartbeats, answers a newcomer at once, forgets the silent and the leaving', () => {
    const network = new LocalBusNetwork();
    const clock = new ManualClock();
    const lost: string[] = [];
    const nodes = ['a', 'b', 'c'].map((id) => {
      const bus = network.join(id);
      const liveness = new NodeLiveness(bus, clock, () => 0, 1_000);
      bus.subscribe((envelope) => {
        if (envelope.type === 'heartbeat') liveness.handle(envelope);
      });
      liveness.onNodeLost((gone) => lost.push(`${id}:${gone}`));
      return liveness;
    });
    // Started one after the other: the last one learns of the first two at once.
    for (const liveness of nodes) liveness.start();
    expect(nodes[0]!.liveNodes().sort()).toEqual(['a', 'b', 'c']);
    expect(nodes[2]!.liveNodes().sort()).toEqual(['a', 'b', 'c']);
    nodes[1]!.stop();
    expect(nodes[0]!.liveNodes().sort()).toEqual(['a', 'c']);
    expect(lost.sort()).toEqual(['a:b', 'c:b']);
    // c falls silent: after three intervals a gives up on it.
    clock.advance(3_001);
    expect(nodes[0]!.isAlive('c')).toBe(false);
    expect(lost).toContain('a:c');
    for (const liveness of nodes) liveness.stop();
  });
});
