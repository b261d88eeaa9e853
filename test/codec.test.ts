import { describe, expect, it } from 'vitest';
import { EventFactory } from '../src/core/events.js';
import { encodeServerFrame } from '../src/protocol/codec.js';

const events = new EventFactory(() => 1_763_790_000_000);

describe('frame encoding', () => {
  it('encodes hello to the same JSON as plain encoding would, reusing the encoded command list', () => {
    const commands = Object.freeze([
      {
        name: 'msg',
        aliases: ['message'],
        bare: ['message'],
        args: [{ name: 'to', kind: 'names' as const }],
        summary: 'private message "quoted" \u2028',
        admin: false,
        group: 'messaging',
      },
    ]);
    for (const id of [1, 2]) {
      const hello = events.make({
        ev: 'hello',
        server: `confab ${id}`,
        version: '0.1.0',
        protocol: 1,
        limits: {
          frameMaxBytes: 65_536,
          messageMaxLength: 280,
          nickMaxLength: 32,
          fileMaxBytes: 1024,
        },
        commands,
      });
      const encoded = encodeServerFrame(hello).toString('utf8');
      expect(encoded.indexOf('\n')).toBe(encoded.length - 1);
      expect(JSON.parse(encoded)).toEqual(JSON.parse(JSON.stringify(hello)));
    }
  });

  it('gives every recipient of one event the same bytes, and a new event its own', () => {
    const first = events.make({ ev: 'notice', text: 'one' });
    const second = events.make({ ev: 'notice', text: 'two' });
    const bytes = encodeServerFrame(first);
    expect(encodeServerFrame(first)).toBe(bytes);
    expect(encodeServerFrame(second).toString()).toBe(`${JSON.stringify(second)}\n`);
    expect(encodeServerFrame(first).toString()).toBe(`${JSON.stringify(first)}\n`);
  });
});
