import { describe, expect, it } from 'vitest';
import { EventFactory } from '../src/core/events.js';
import { encodeServerFrame } from '../src/protocol/codec.js';
import { NodeIds } from '../src/core/ids/node-ids.js';

const events = new EventFactory(
  () => 1_763_790_000_000,
  await NodeIds.start(
    async () => 1,
    () => undefined,
  ),
);

describe('frame encoding', () => {
  it('gives every recipient of one event the same bytes, and a new event its own', () => {
    const first = events.make({ ev: 'notice', text: 'one' });
    const second = events.make({ ev: 'notice', text: 'two' });
    const bytes = encodeServerFrame(first);
    expect(encodeServerFrame(first)).toBe(bytes);
    expect(encodeServerFrame(second).toString()).toBe(`${JSON.stringify(second)}\n`);
    expect(encodeServerFrame(first).toString()).toBe(`${JSON.stringify(first)}\n`);
  });
});
