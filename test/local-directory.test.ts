import { describe, expect, it } from 'vitest';
import {
  LocalDirectory,
  entryOf,
  recordOf,
  type SessionIdentity,
} from '../src/core/directory/directory.js';

/**
 * The in-process directory keeps a resume record that says what the session's entry says
 * as that entry (memory at ten thousand sessions): what `takeResume` gives back must still
 * be the record as it was saved, field for field, whatever happened to the entry since.
 */
const guest: SessionIdentity = {
  id: 's1',
  nick: 'Alice',
  nickKey: 'alice',
  account: null,
  guestKey: 'g-key',
};
const member: SessionIdentity = {
  id: 's2',
  nick: 'Bob',
  nickKey: 'bob',
  account: { id: 7, role: 'user' },
  guestKey: 'unused',
};

describe('LocalDirectory resume records', () => {
  it('gives back a guest record and an account record as saved', async () => {
    const directory = new LocalDirectory();
    for (const identity of [guest, member]) {
      await directory.claim(entryOf(identity, 'n1'));
      const record = recordOf(identity, 'n1', []);
      await directory.saveResume(`token-${identity.id}`, record);
      const taken = await directory.takeResume(`token-${identity.id}`);
      expect(taken).toEqual({ record, nodeAlive: true });
      expect(JSON.stringify(taken!.record)).toBe(JSON.stringify(record));
      expect(await directory.takeResume(`token-${identity.id}`)).toBeUndefined();
    }
  });

  it('gives back the record as saved after the session was renamed', async () => {
    const directory = new LocalDirectory();
    await directory.claim(entryOf(guest, 'n1'));
    const record = recordOf(guest, 'n1', []);
    await directory.saveResume('token', record);
    await directory.rename('s1', 'Carol', 'carol');
    expect((await directory.takeResume('token'))?.record).toEqual(record);
  });

  it('gives back rooms, and records whose session holds no entry', async () => {
    const directory = new LocalDirectory();
    await directory.claim(entryOf(guest, 'n1'));
    const inRooms = recordOf(guest, 'n1', ['lounge']);
    await directory.saveResume('rooms', inRooms);
    const unclaimed = recordOf(member, 'n1', []);
    await directory.saveResume('unclaimed', unclaimed);
    expect((await directory.takeResume('rooms'))?.record).toEqual(inRooms);
    expect((await directory.takeResume('unclaimed'))?.record).toEqual(unclaimed);
  });

  it('refuses a record of a forgotten node, and a replaced token', async () => {
    const directory = new LocalDirectory();
    await directory.claim(entryOf(guest, 'n1'));
    await directory.saveResume('old', recordOf(guest, 'n1', []));
    await directory.saveResume('new', recordOf(guest, 'n1', []), 'old');
    expect(await directory.takeResume('old')).toBeUndefined();
    await directory.forgetNode('n1');
    expect(await directory.takeResume('new')).toBeUndefined();
  });
});
