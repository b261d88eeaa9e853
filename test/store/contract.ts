import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  StoreConflictError,
  type NewAccount,
  type MessageRecipient,
  type NewFile,
  type NewMessage,
  type Store,
  type StoredMessage,
} from '../../src/store/store.js';
import { nameSkeleton } from '../../src/core/accounts/confusables.js';

/**
 * The storage contract, as tests: what every backend (SQLite, PostgreSQL) must do for the
 * core, checked through the `Store` interface alone. Each backend's test file calls this
 * with a factory that opens an empty store and a cleanup that removes it.
 */
export interface OpenedStore {
  readonly store: Store;
  cleanup(): Promise<void>;
}

const account = (name: string, at = 1000): NewAccount => ({
  name,
  nameKey: name.toLowerCase(),
  nameSkeleton: nameSkeleton(name),
  passwordHash: `hash-of-${name}`,
  role: 'user',
  createdAt: at,
});

/** A private message from guest alice. */
const privateMessage = (text: string, recipients: MessageRecipient[], ts: number): NewMessage => ({
  ts,
  sender: 'alice',
  senderAccountId: null,
  room: null,
  recipients,
  text,
});

const roomMessage = (room: string, text: string, ts = 1000): NewMessage => ({
  ts,
  sender: 'alice',
  senderAccountId: null,
  room,
  recipients: [],
  text,
});

export function describeStoreContract(backend: string, open: () => Promise<OpenedStore>): void {
  describe(`storage contract: ${backend}`, () => {
    let opened: OpenedStore;
    let store: Store;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    describe('messages', () => {
      // The contract promises no call order (src/store/store.ts): overlapping appends get
      // distinct ids in any order; an append begun after another resolved gets a greater id.
      it('overlapping appends get distinct ids; count and lastId follow', async () => {
        expect(await store.messages.lastId()).toBe(0);
        const stored = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.messages.append(roomMessage('#a', `m${i}`))),
        );
        expect(new Set(stored.map((message) => message.id)).size).toBe(50);
        expect(stored[3]!.text).toBe('m3');
        expect(await store.messages.count()).toBe(50);
        expect(await store.messages.lastId()).toBe(Math.max(...stored.map((m) => m.id)));
      });

      it('an append begun after another resolved gets a greater id, and reads see it at once', async () => {
        let previous = 0;
        for (let i = 0; i < 20; i++) {
          const message = await store.messages.append(roomMessage(i % 2 ? '#a' : '#b', `s${i}`));
          expect(message.id).toBeGreaterThan(previous);
          previous = message.id;
          // Read after commit: every read begun after the append resolved sees it.
          expect(await store.messages.lastId()).toBeGreaterThanOrEqual(message.id);
          const recent = await store.messages.recentInRoom(message.room!, 1);
          expect(recent.map((m) => m.id)).toEqual([message.id]);
        }
      });

      it('account, room and ban ids are never handed out again once the newest is deleted', async () => {
        // SQLite numbers a plain INTEGER PRIMARY KEY from the highest row still there, so a
        // deleted newest account's id went to the next one (with its rooms and blocks on
        // nodes that remembered them).
        const first = await store.accounts.create(account('first'));
        const newest = await store.accounts.create(account('newest'));
        await store.accounts.delete(newest.id);
        expect((await store.accounts.create(account('next'))).id).toBeGreaterThan(newest.id);
        expect(first.id).toBeLessThan(newest.id);

        const room = (name: string) =>
          store.rooms.create({
            name,
            nameKey: name,
            ownerAccountId: first.id,
            ownerName: 'first',
            topic: null,
            createdAt: 1,
            historyFloor: 0,
          });
        const closed = await room('#closed');
        await store.rooms.delete(closed.id);
        expect((await room('#next')).id).toBeGreaterThan(closed.id);

        const ban = (nameKey: string) =>
          store.moderation.addBan({
            nameKey,
            name: nameKey,
            address: null,
            reason: null,
            createdAt: 1,
            expiresAt: null,
            createdBy: 'admin',
          });
        const lifted = await ban('eve');
        await store.moderation.removeBans('eve');
        expect((await ban('mal')).id).toBeGreaterThan(lifted.id);
      });

      it('message ids are never handed out again, across a delete of their sender', async () => {
        const owner = await store.accounts.create(account('gone'));
        const first = await store.messages.append({
          ...roomMessage('#a', 'before'),
          sender: 'gone',
          senderAccountId: owner.id,
        });
        await store.accounts.delete(owner.id);
        const next = await store.messages.append(roomMessage('#a', 'after'));
        expect(next.id).toBeGreaterThan(first.id);
      });

      it('recentInRoom: the newest, oldest first, between the bounds, one room only', async () => {
        const ids: number[] = [];
        for (let i = 0; i < 10; i++) {
          ids.push((await store.messages.append(roomMessage('#a', `a${i}`, 1000 + i))).id);
          await store.messages.append(roomMessage('#b', `b${i}`, 1000 + i));
        }
        const recent = await store.messages.recentInRoom('#a', 3);
        expect(recent.map((m) => m.text)).toEqual(['a7', 'a8', 'a9']);
        expect(recent[0]).toMatchObject({ room: '#a', sender: 'alice', ts: 1007, id: ids[7] });
        const before = await store.messages.recentInRoom('#a', 3, ids[5]);
        expect(before.map((m) => m.text)).toEqual(['a2', 'a3', 'a4']);
        const floor = await store.messages.recentInRoom('#a', 100, undefined, ids[7]);
        expect(floor.map((m) => m.text)).toEqual(['a8', 'a9']);
        expect(await store.messages.recentInRoom('#none', 5)).toEqual([]);
      });

      it('firstInRoom: the oldest after a point, oldest first, below a bound, one room only', async () => {
        const ids: number[] = [];
        for (let i = 0; i < 10; i++) {
          ids.push((await store.messages.append(roomMessage('#a', `a${i}`, 1000 + i))).id);
          await store.messages.append(roomMessage('#b', `b${i}`, 1000 + i));
        }
        const after = await store.messages.firstInRoom('#a', 3, ids[2]!);
        expect(after.map((m) => m.text)).toEqual(['a3', 'a4', 'a5']);
        expect(after[0]).toMatchObject({ room: '#a', sender: 'alice', ts: 1003, id: ids[3] });
        const between = await store.messages.firstInRoom('#a', 100, ids[6]!, ids[9]);
        expect(between.map((m) => m.text)).toEqual(['a7', 'a8']);
        expect(await store.messages.firstInRoom('#a', 5, ids[9]!)).toEqual([]);
        expect(await store.messages.firstInRoom('#none', 5, 0)).toEqual([]);
      });

      it('recentInRoom and firstInRoom: long reads are whole and in order, as of one instant', async () => {
        // Longer than a backend may read in one piece (SQLite reads 100 rows at a time).
        const ids: number[] = [];
        for (let i = 0; i < 260; i++) {
          ids.push((await store.messages.append(roomMessage('#a', `a${i}`, 1000 + i))).id);
          if (i % 3 === 0) await store.messages.append(roomMessage('#b', `b${i}`, 1000 + i));
        }
        const texts = (from: number, to: number) =>
          Array.from({ length: to - from }, (_, i) => `a${from + i}`);
        const recent = store.messages.recentInRoom('#a', 250);
        // Committed while the read may be under way: in it or not, never in the middle.
        const late = store.messages.append(roomMessage('#a', 'late', 9999));
        const got = (await recent).map((m) => m.text);
        expect([texts(10, 260), [...texts(11, 260), 'late']]).toContainEqual(got);
        await late;
        expect((await store.messages.recentInRoom('#a', 205, ids[210])).map((m) => m.text)).toEqual(
          texts(5, 210),
        );
        expect(
          (await store.messages.recentInRoom('#a', 300, ids[250], ids[20])).map((m) => m.text),
        ).toEqual(texts(21, 250));
        const first = (await store.messages.firstInRoom('#a', 230, ids[4]!)).map((m) => m.text);
        expect(first).toEqual(texts(5, 235));
        expect(
          (await store.messages.firstInRoom('#a', 300, ids[30]!, ids[240])).map((m) => m.text),
        ).toEqual(texts(31, 240));
        const all = await store.messages.firstInRoom('#a', 1000, 0);
        expect(all.map((m) => m.text)).toEqual([...texts(0, 260), 'late']);
        expect(all.map((m) => m.id)).toEqual([...all.map((m) => m.id)].sort((a, b) => a - b));
      });

      it('missedInRoom: since a time, within (afterId, upToId], the newest `limit`', async () => {
        const ids: number[] = [];
        for (let i = 0; i < 10; i++)
          ids.push((await store.messages.append(roomMessage('#a', `a${i}`, 1000 + i * 10))).id);
        const missed = await store.messages.missedInRoom(
          '#a',
          { sinceTs: 1030, afterId: 0, upToId: ids[8]! },
          100,
        );
        expect(missed.map((m) => m.text)).toEqual(['a3', 'a4', 'a5', 'a6', 'a7', 'a8']);
        const limited = await store.messages.missedInRoom(
          '#a',
          { sinceTs: 1030, afterId: ids[4]!, upToId: ids[9]! },
          2,
        );
        expect(limited.map((m) => m.text)).toEqual(['a8', 'a9']);
        expect(
          await store.messages.missedInRoom(
            '#a',
            { sinceTs: 5000, afterId: 0, upToId: ids[9]! },
            5,
          ),
        ).toEqual([]);
      });

      it('missedInRoom: every message sent since the time, whatever order their ids are in', async () => {
        // Ids need not follow send times: a message stamped on one node may commit after
        // one stamped later on another. Here 'late' is stamped after `since` but committed
        // before 'boundary', the earliest stamped at or after it.
        const before = await store.messages.append(roomMessage('#a', 'before', 1000));
        await store.messages.append(roomMessage('#a', 'late', 1050));
        await store.messages.append(roomMessage('#a', 'boundary', 1040));
        const last = await store.messages.append(roomMessage('#a', 'after', 1060));
        const missed = await store.messages.missedInRoom(
          '#a',
          { sinceTs: 1040, afterId: before.id, upToId: last.id },
          10,
        );
        expect(missed.map((m) => m.text)).toEqual(['late', 'boundary', 'after']);
        // The newest by send time, in id order.
        const newest = await store.messages.missedInRoom(
          '#a',
          { sinceTs: 1000, afterId: 0, upToId: last.id },
          2,
        );
        expect(newest.map((m) => m.text)).toEqual(['late', 'after']);
      });

      it('an append begun after lastId resolved gets a greater id (a room history floor)', async () => {
        await Promise.all([1, 2, 3].map((i) => store.messages.append(roomMessage('#a', `m${i}`))));
        const floor = await store.messages.lastId();
        const next = await store.messages.append(roomMessage('#new', 'first'));
        expect(next.id).toBeGreaterThan(floor);
      });

      it('a private message with stored and live recipients lands in the right inboxes', async () => {
        const bob = await store.accounts.create(account('Bob'));
        const carol = await store.accounts.create(account('Carol'));
        const pm = await store.messages.append({
          ts: 2000,
          sender: 'alice',
          senderAccountId: null,
          room: null,
          recipients: [
            { nick: 'Carol', accountId: carol.id, delivery: 'live' },
            { nick: 'Bob', accountId: bob.id, delivery: 'stored' },
          ],
          text: 'hello both',
        });
        expect(await store.inbox.unreadCount(bob.id)).toBe(1);
        expect(await store.inbox.unreadCount(carol.id)).toBe(0);
        const [entry] = await store.inbox.undelivered(bob.id, pm.id);
        expect(entry).toEqual({
          id: pm.id,
          ts: 2000,
          sender: 'alice',
          to: ['Bob', 'Carol'],
          text: 'hello both',
          read: false,
        });
        expect(await store.inbox.undelivered(bob.id, pm.id - 1)).toEqual([]);
        expect(await store.inbox.undelivered(carol.id, pm.id)).toEqual([]);
        // Private messages are not room history.
        expect(await store.messages.count()).toBe(1);
      });

      it('keeps text exactly: unicode, quotes, long lines', async () => {
        const text = `It's "quoted" — ünïcödé 👋🏽 \\ % _ ${'x'.repeat(5000)}`;
        const stored = await store.messages.append(roomMessage('#a', text));
        const [back] = await store.messages.recentInRoom('#a', 1);
        expect(back!.text).toBe(text);
        expect(back!.id).toBe(stored.id);
      });

      /** A private message to an account deleted since: it cannot be stored. */
      const toDeletedAccount = (accountId: number): NewMessage => ({
        ts: 1,
        sender: 'x',
        senderAccountId: null,
        room: null,
        recipients: [{ nick: 'Gone', accountId, delivery: 'stored' }],
        text: 'to nobody',
      });

      it('an append for a deleted account fails alone, not its neighbours', async () => {
        const gone = await store.accounts.create(account('Gone'));
        await store.accounts.delete(gone.id);
        const results = await Promise.allSettled([
          store.messages.append(roomMessage('#a', 'before')),
          store.messages.append(toDeletedAccount(gone.id)),
          store.messages.append(roomMessage('#a', 'after')),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((await store.messages.recentInRoom('#a', 10)).map((m) => m.text)).toEqual([
          'before',
          'after',
        ]);
      });

      // The listener form of append: same guarantees, told once, never during the call.
      const appendTold = (message: NewMessage) => {
        const told: string[] = [];
        let returned = false;
        const outcome = new Promise<StoredMessage | Error>((resolve) =>
          store.messages.appendThen(message, {
            committed: (stored) => {
              told.push(returned ? 'committed' : 'committed during the call');
              resolve(stored);
            },
            failed: (error) => {
              told.push(returned ? 'failed' : 'failed during the call');
              resolve(error);
            },
          }),
        );
        returned = true;
        return { told, outcome };
      };

      it('appendThen tells committed once the message is stored and readable, after the call', async () => {
        const first = appendTold(roomMessage('#a', 'one'));
        const second = appendTold(roomMessage('#a', 'two'));
        const stored = (await first.outcome) as StoredMessage;
        expect(stored).toMatchObject({ room: '#a', text: 'one', sender: 'alice', ts: 1000 });
        // Read after commit: a read begun once it was told sees it.
        expect((await store.messages.recentInRoom('#a', 10)).map((m) => m.id)).toContain(stored.id);
        const next = (await second.outcome) as StoredMessage;
        expect(next.id).not.toBe(stored.id);
        expect(first.told).toEqual(['committed']);
        expect(second.told).toEqual(['committed']);
        expect(await store.messages.lastId()).toBeGreaterThanOrEqual(Math.max(stored.id, next.id));
      });

      it('appendThen tells failed for an append that cannot be stored, and it fails alone', async () => {
        const gone = await store.accounts.create(account('Gone'));
        await store.accounts.delete(gone.id);
        const before = appendTold(roomMessage('#a', 'before'));
        const bad = appendTold(toDeletedAccount(gone.id));
        const after = appendTold(roomMessage('#a', 'after'));
        expect(await bad.outcome).toBeInstanceOf(Error);
        expect(await before.outcome).toMatchObject({ text: 'before' });
        expect(await after.outcome).toMatchObject({ text: 'after' });
        expect([before.told, bad.told, after.told]).toEqual([
          ['committed'],
          ['failed'],
          ['committed'],
        ]);
      });
    });

    describe('accounts', () => {
      it('finds an account by its confusable skeleton and fills skeletons it lacks', async () => {
        const bob = await store.accounts.create(account('Bob'));
        await store.accounts.create(account('Carol'));
        expect(await store.accounts.findBySkeleton(nameSkeleton('b0b'))).toEqual({
          ...bob,
          lastSeenAt: null,
        });
        expect(await store.accounts.findBySkeleton(nameSkeleton('nobody'))).toBeUndefined();
        // Every account has one from its creation: nothing to fill.
        expect(await store.accounts.fillSkeletons(() => 'unused')).toBe(0);
      });

      it('create, find by key and id, list in key order, refuse a taken name', async () => {
        const zed = await store.accounts.create(account('Zed'));
        const amy = await store.accounts.create({ ...account('Amy'), role: 'admin' });
        expect(zed.id).not.toBe(amy.id);
        expect(await store.accounts.findByKey('zed')).toEqual({ ...zed, lastSeenAt: null });
        expect(await store.accounts.findById(amy.id)).toMatchObject({ name: 'Amy', role: 'admin' });
        expect(await store.accounts.findByKey('nobody')).toBeUndefined();
        expect(await store.accounts.findById(999_999)).toBeUndefined();
        expect((await store.accounts.list()).map((a) => a.name)).toEqual(['Amy', 'Zed']);
        await expect(store.accounts.create(account('ZED'))).rejects.toBeInstanceOf(
          StoreConflictError,
        );
      });

      it('password and last seen; a checkpoint never moves last seen back', async () => {
        const a = await store.accounts.create(account('A'));
        await store.accounts.setPasswordHash(a.id, 'new-hash');
        await store.accounts.setLastSeen(a.id, 5000);
        await store.accounts.touchLastSeen([a.id], 4000);
        expect(await store.accounts.findById(a.id)).toMatchObject({
          passwordHash: 'new-hash',
          lastSeenAt: 5000,
        });
        await store.accounts.touchLastSeen([a.id], 6000);
        await store.accounts.touchLastSeen([], 7000);
        expect((await store.accounts.findById(a.id))!.lastSeenAt).toBe(6000);
        expect(await store.presence.accountsSeenSince(5500)).toEqual([
          { name: 'A', nameKey: 'a', lastSeenAt: 6000 },
        ]);
        expect(await store.presence.accountsSeenSince(6001)).toEqual([]);
      });

      it('deleting an account removes what belongs to it', async () => {
        const a = await store.accounts.create(account('A'));
        const room = await store.rooms.create({
          name: '#r',
          nameKey: '#r',
          ownerAccountId: a.id,
          ownerName: 'A',
          topic: null,
          createdAt: 1,
          historyFloor: 0,
        });
        await store.rooms.addMember(room.id, a.id, 2);
        await store.blocks.add({ accountId: a.id, blockedKey: 'b', blockedName: 'B' }, 3);
        await store.messages.append({
          ts: 4,
          sender: 'b',
          senderAccountId: null,
          room: null,
          recipients: [{ nick: 'A', accountId: a.id, delivery: 'stored' }],
          text: 'hi',
        });
        await store.accounts.delete(a.id);
        expect(await store.accounts.findById(a.id)).toBeUndefined();
        expect(await store.blocks.list()).toEqual([]);
        expect((await store.rooms.list())[0]).toMatchObject({ ownerAccountId: null, members: [] });
        expect(await store.inbox.unreadCount(a.id)).toBe(0);
      });
    });

    describe('rooms', () => {
      it('create, members, topic, delete; a taken name conflicts', async () => {
        const a = await store.accounts.create(account('A'));
        const b = await store.accounts.create(account('B'));
        const room = await store.rooms.create({
          name: '#Chat',
          nameKey: '#chat',
          ownerAccountId: a.id,
          ownerName: 'A',
          topic: null,
          createdAt: 10,
          historyFloor: 7,
        });
        await store.rooms.addMember(room.id, a.id, 11);
        await store.rooms.addMember(room.id, b.id, 12);
        await store.rooms.addMember(room.id, b.id, 13);
        await store.rooms.setTopic(room.id, 'talk');
        expect(await store.rooms.list()).toEqual([
          {
            ...room,
            topic: 'talk',
            members: [
              { accountId: a.id, name: 'A' },
              { accountId: b.id, name: 'B' },
            ],
          },
        ]);
        await expect(
          store.rooms.create({ ...room, name: '#CHAT', topic: null }),
        ).rejects.toBeInstanceOf(StoreConflictError);
        await store.rooms.removeMember(room.id, a.id);
        expect((await store.rooms.list())[0]!.members).toEqual([{ accountId: b.id, name: 'B' }]);
        await store.rooms.delete(room.id);
        expect(await store.rooms.list()).toEqual([]);
      });
    });

    describe('blocks', () => {
      it('add (twice is once), list, remove', async () => {
        const a = await store.accounts.create(account('A'));
        await store.blocks.add({ accountId: a.id, blockedKey: 'spam', blockedName: 'Spam' }, 1);
        await store.blocks.add({ accountId: a.id, blockedKey: 'spam', blockedName: 'Spam' }, 2);
        await store.blocks.add({ accountId: a.id, blockedKey: 'eve', blockedName: 'Eve' }, 3);
        expect(await store.blocks.list()).toEqual([
          { accountId: a.id, blockedKey: 'spam', blockedName: 'Spam' },
          { accountId: a.id, blockedKey: 'eve', blockedName: 'Eve' },
        ]);
        await store.blocks.remove(a.id, 'spam');
        expect((await store.blocks.list()).map((b) => b.blockedKey)).toEqual(['eve']);
      });
    });

    describe('inbox', () => {
      it('delivered and read state, unread and all listings', async () => {
        const bob = await store.accounts.create(account('Bob'));
        const ids: number[] = [];
        for (let i = 0; i < 5; i++)
          ids.push(
            (
              await store.messages.append({
                ts: 100 + i,
                sender: 'alice',
                senderAccountId: null,
                room: null,
                recipients: [{ nick: 'Bob', accountId: bob.id, delivery: 'stored' }],
                text: `pm${i}`,
              })
            ).id,
          );
        await store.inbox.markDelivered(bob.id, [ids[0]!, ids[1]!], 200);
        expect((await store.inbox.undelivered(bob.id, ids[4]!)).map((e) => e.text)).toEqual([
          'pm2',
          'pm3',
          'pm4',
        ]);
        expect(await store.inbox.unreadCount(bob.id)).toBe(5);
        await store.inbox.markRead(bob.id, [ids[0]!, ids[2]!], 300);
        expect(await store.inbox.unreadCount(bob.id)).toBe(3);
        expect((await store.inbox.undelivered(bob.id, ids[4]!)).map((e) => e.text)).toEqual([
          'pm3',
          'pm4',
        ]);
        const unread = await store.inbox.list(bob.id, { all: false, limit: 2 });
        expect(unread.map((e) => [e.text, e.read])).toEqual([
          ['pm1', false],
          ['pm3', false],
        ]);
        const all = await store.inbox.list(bob.id, { all: true, limit: 3 });
        expect(all.map((e) => [e.text, e.read])).toEqual([
          ['pm2', true],
          ['pm3', false],
          ['pm4', false],
        ]);
        await store.inbox.markRead(bob.id, [], 400);
        await store.inbox.markDelivered(bob.id, [], 400);
      });

      it('markUndelivered makes messages delivered live stored again, for that account only', async () => {
        const bob = await store.accounts.create(account('Bob'));
        const carol = await store.accounts.create(account('Carol'));
        const send = (text: string, recipients: MessageRecipient[]) =>
          store.messages.append(privateMessage(text, recipients, 500));
        const both = await send('to both', [
          { nick: 'Bob', accountId: bob.id, delivery: 'live' },
          { nick: 'Carol', accountId: carol.id, delivery: 'live' },
        ]);
        const read = await send('read in the inbox', [
          { nick: 'Bob', accountId: bob.id, delivery: 'stored' },
        ]);
        await store.inbox.markRead(bob.id, [read.id], 600);
        const carolOnly = await send('carol only', [
          { nick: 'Carol', accountId: carol.id, delivery: 'live' },
        ]);
        expect(await store.inbox.unreadCount(bob.id)).toBe(0);

        await store.inbox.markUndelivered(bob.id, [both.id, read.id, carolOnly.id]);
        const undelivered = await store.inbox.undelivered(bob.id, carolOnly.id);
        expect(undelivered.map((entry) => [entry.text, entry.read])).toEqual([
          ['to both', false],
          ['read in the inbox', false],
        ]);
        expect(await store.inbox.unreadCount(bob.id)).toBe(2);
        // Carol's copies stay delivered and read; no row is made for bob.
        expect(await store.inbox.unreadCount(carol.id)).toBe(0);
        expect(await store.inbox.undelivered(carol.id, carolOnly.id)).toEqual([]);
        expect((await store.inbox.list(bob.id, { all: true, limit: 10 })).length).toBe(2);
        await store.inbox.markUndelivered(bob.id, []);
      });

      it('markUndeliveredSince makes the messages sent from a time on stored again, for that account only', async () => {
        const bob = await store.accounts.create(account('Bob'));
        const carol = await store.accounts.create(account('Carol'));
        const send = (ts: number, text: string, recipients: MessageRecipient[]) =>
          store.messages.append(privateMessage(text, recipients, ts));
        const live = (who: { id: number; name: string }): MessageRecipient => ({
          nick: who.name,
          accountId: who.id,
          delivery: 'live',
        });
        await send(900, 'before', [live(bob)]);
        // Committed out of time order: a later id does not make it later.
        const late = await send(1500, 'stamped late', [live(bob), live(carol)]);
        await send(1000, 'at the time', [live(bob)]);
        const stored = await send(1200, 'stored', [
          { nick: 'Bob', accountId: bob.id, delivery: 'stored' },
        ]);
        await send(1100, 'carol only', [live(carol)]);
        await store.messages.append({
          ts: 1300,
          sender: 'alice',
          senderAccountId: null,
          room: 'lobby',
          recipients: [],
          text: 'in a room',
        });
        expect(await store.inbox.unreadCount(bob.id)).toBe(1);

        await store.inbox.markUndeliveredSince(bob.id, 1000);
        const undelivered = await store.inbox.undelivered(bob.id, late.id + 10);
        expect(undelivered.map((entry) => [entry.text, entry.read])).toEqual([
          ['stamped late', false],
          ['at the time', false],
          ['stored', false],
        ]);
        expect(await store.inbox.unreadCount(bob.id)).toBe(3);
        expect(await store.inbox.unreadCount(carol.id)).toBe(0);
        expect(await store.inbox.undelivered(carol.id, late.id + 10)).toEqual([]);
        expect(stored.id).toBeGreaterThan(late.id);
        // Nothing from then on: nothing changes.
        await store.inbox.markUndeliveredSince(carol.id, 2000);
        expect(await store.inbox.unreadCount(carol.id)).toBe(0);
      });

      it("forGuest reads a guest's private messages back by its key, in a window of ids", async () => {
        const bob = await store.accounts.create(account('Bob'));
        const send = (text: string, recipients: MessageRecipient[]) =>
          store.messages.append(privateMessage(text, recipients, 700));
        const carol = (guest: string): MessageRecipient => ({
          nick: 'Carol',
          accountId: null,
          guest,
          delivery: 'live',
        });
        // An earlier guest of the same nickname, and one stored without a key.
        await send('to the carol before', [carol('g-before')]);
        await send('no key', [{ nick: 'Carol', accountId: null, delivery: 'live' }]);
        const seen = await send('seen', [carol('g-carol')]);
        const ids: number[] = [];
        for (let i = 0; i < 4; i++) ids.push((await send(`p${i}`, [carol('g-carol')])).id);
        const group = await send('group', [
          { nick: 'Bob', accountId: bob.id, delivery: 'stored' },
          carol('g-carol'),
        ]);
        await send('to the carol after', [carol('g-after')]);
        await store.messages.append(roomMessage('#den', 'a room message'));

        const all = await store.inbox.forGuest(
          'g-carol',
          { afterId: seen.id, upToId: group.id },
          10,
        );
        expect(all.map((entry) => [entry.text, entry.read])).toEqual([
          ['p0', true],
          ['p1', true],
          ['p2', true],
          ['p3', true],
          ['group', true],
        ]);
        expect(all[4]).toMatchObject({ id: group.id, ts: 700, sender: 'alice' });
        expect(all[4]!.to).toEqual(['Bob', 'Carol']);
        // The newest `limit` in the window, oldest first; the window's ends as given.
        const newest = await store.inbox.forGuest(
          'g-carol',
          { afterId: seen.id, upToId: ids[3]! },
          2,
        );
        expect(newest.map((entry) => entry.text)).toEqual(['p2', 'p3']);
        const from = await store.inbox.forGuest(
          'g-carol',
          { afterId: ids[1]!, upToId: ids[2]! },
          10,
        );
        expect(from.map((entry) => entry.text)).toEqual(['p2']);
        expect(
          await store.inbox.forGuest('g-nobody', { afterId: 0, upToId: group.id }, 10),
        ).toEqual([]);
        // The account's copy of the group message is its inbox's, untouched.
        expect(await store.inbox.unreadCount(bob.id)).toBe(1);
      });
    });

    describe('files', () => {
      const file = (over: Partial<NewFile> = {}): NewFile => ({
        storageName: `blob-${Math.random().toString(16).slice(2)}`,
        name: 'report.pdf',
        size: 1234,
        sha256: 'ab'.repeat(32),
        sender: 'alice',
        senderParty: { kind: 'guest', guest: 'g-alice' },
        senderAddress: '192.0.2.7',
        recipient: null,
        createdAt: 1000,
        node: 'node-a',
        recipientNode: null,
        ...over,
      });

      it("guests' bytes are counted by the address they uploaded from, after they leave too", async () => {
        const alice = await store.accounts.create(account('Alice'));
        await store.files.create(file({ size: 100 }));
        await store.files.create(
          file({ size: 20, senderParty: { kind: 'guest', guest: 'g-other' } }),
        );
        await store.files.create(file({ size: 5, senderAddress: '2001:db8:1:2::/64' }));
        // An account's upload counts against the account, never the address.
        await store.files.create(
          file({
            size: 1000,
            senderParty: { kind: 'account', accountId: alice.id },
            senderAddress: null,
          }),
        );
        expect(await store.files.guestBytesFrom('192.0.2.7')).toBe(120);
        expect(await store.files.guestBytesFrom('2001:db8:1:2::/64')).toBe(5);
        expect(await store.files.guestBytesFrom('198.51.100.1')).toBe(0);
        await store.files.forgetGuest('g-alice');
        expect(await store.files.guestBytesFrom('192.0.2.7')).toBe(120);
      });

      it('uploading files are not listed; ready ones are, by party', async () => {
        const bob = await store.accounts.create(account('Bob'));
        const toBob = await store.files.create(
          file({ recipient: { nick: 'Bob', party: { kind: 'account', accountId: bob.id } } }),
        );
        const shared = await store.files.create(file({ name: 'shared.txt' }));
        expect(toBob.state).toBe('uploading');
        expect(await store.files.waitingFor({ kind: 'account', accountId: bob.id })).toEqual([]);
        expect(await store.files.usedBytes({ kind: 'guest', guest: 'g-alice' })).toBe(2468);
        expect(await store.files.totalBytes()).toBe(2468);
        await store.files.markReady(toBob.id);
        await store.files.markReady(shared.id);
        expect(await store.files.get(toBob.id)).toEqual({ ...toBob, state: 'ready' });
        expect(
          (await store.files.waitingFor({ kind: 'account', accountId: bob.id })).map((f) => f.id),
        ).toEqual([toBob.id]);
        expect(
          (await store.files.sentBy({ kind: 'guest', guest: 'g-alice' })).map((f) => f.id),
        ).toEqual([toBob.id]);
        expect((await store.files.shared()).map((f) => f.id)).toEqual([shared.id]);
        expect((await store.files.createdBefore(1001)).length).toBe(2);
        expect((await store.files.createdBefore(1000)).length).toBe(0);
        expect(await store.files.storageNames()).toEqual(
          new Set([toBob.storageName, shared.storageName]),
        );
        await store.files.delete(shared.id);
        expect(await store.files.get(shared.id)).toBeUndefined();
      });

      it('never hands a file id out again, after the newest file is gone too', async () => {
        const first = await store.files.create(file());
        await store.files.delete(first.id);
        const second = await store.files.create(file());
        expect(second.id).toBeGreaterThan(first.id);
        await store.files.markReady(second.id);
        await store.files.retire({ ...second, state: 'ready' }, 'declined', 5000);
        const third = await store.files.create(file());
        expect(third.id).toBeGreaterThan(second.id);
      });

      it('a storage name is unique', async () => {
        await store.files.create(file({ storageName: 'same' }));
        await expect(store.files.create(file({ storageName: 'same' }))).rejects.toBeInstanceOf(
          StoreConflictError,
        );
      });

      it('retiring leaves a tombstone for an account sender, taken once', async () => {
        const alice = await store.accounts.create(account('Alice'));
        const sent = await store.files.create(
          file({
            senderParty: { kind: 'account', accountId: alice.id },
            senderAddress: null,
            recipient: { nick: 'Bob', party: { kind: 'guest', guest: 'g-bob' } },
          }),
        );
        await store.files.markReady(sent.id);
        await store.files.retire({ ...sent, state: 'ready' }, 'declined', 5000);
        expect(await store.files.get(sent.id)).toBeUndefined();
        expect(await store.files.takeTombstones(alice.id)).toEqual([
          { id: sent.id, name: 'report.pdf', recipient: 'Bob', reason: 'declined', at: 5000 },
        ]);
        expect(await store.files.takeTombstones(alice.id)).toEqual([]);
      });

      it('a guest leaving: files for it go, files from it stay detached', async () => {
        const forGuest = await store.files.create(
          file({
            sender: 'carol',
            senderParty: { kind: 'guest', guest: 'g-carol' },
            recipient: { nick: 'alice', party: { kind: 'guest', guest: 'g-alice' } },
          }),
        );
        const fromGuest = await store.files.create(
          file({ recipient: { nick: 'carol', party: { kind: 'guest', guest: 'g-carol' } } }),
        );
        await store.files.markReady(forGuest.id);
        await store.files.markReady(fromGuest.id);
        const removed = await store.files.forgetGuest('g-alice');
        expect(removed.map((f) => f.id)).toEqual([forGuest.id]);
        const kept = await store.files.get(fromGuest.id);
        expect(kept!.senderParty).toEqual({ kind: 'guest', guest: '' });
        expect(kept!.recipient).toEqual({
          nick: 'carol',
          party: { kind: 'guest', guest: 'g-carol' },
        });
      });

      it("restart recovery takes only the restarting node's uploads and guests", async () => {
        const guest = (key: string) => ({ kind: 'guest', guest: key }) as const;
        // Node A: an upload in progress, a ready file for one of its guests, a ready file
        // sent by one of its guests to an account.
        const bob = await store.accounts.create(account('Bob'));
        const toBob = { nick: 'Bob', party: { kind: 'account', accountId: bob.id } } as const;
        const uploadingA = await store.files.create(file({ node: 'node-a' }));
        const forGuestOfA = await store.files.create(
          file({
            node: 'node-b',
            senderParty: guest('s-b1'),
            recipient: { nick: 'dave', party: guest('s-a1') },
            recipientNode: 'node-a',
          }),
        );
        const fromGuestOfA = await store.files.create(
          file({ node: 'node-a', senderParty: guest('s-a2'), recipient: toBob }),
        );
        // Node B: an upload in progress and a ready file sent by one of its guests.
        const uploadingB = await store.files.create(file({ node: 'node-b' }));
        const fromGuestOfB = await store.files.create(
          file({ node: 'node-b', senderParty: guest('s-b2'), recipient: toBob }),
        );
        for (const ready of [forGuestOfA, fromGuestOfA, fromGuestOfB])
          await store.files.markReady(ready.id);

        const removed = await store.files.recoverAfterRestart('node-a');

        expect(removed.map((f) => f.id).sort((x, y) => x - y)).toEqual(
          [uploadingA.id, forGuestOfA.id].sort((x, y) => x - y),
        );
        expect(await store.files.get(uploadingA.id)).toBeUndefined();
        expect(await store.files.get(forGuestOfA.id)).toBeUndefined();
        expect((await store.files.get(fromGuestOfA.id))!.senderParty).toEqual(guest(''));
        expect(await store.files.get(uploadingB.id)).toEqual(uploadingB);
        expect(await store.files.get(fromGuestOfB.id)).toEqual({ ...fromGuestOfB, state: 'ready' });
        expect(removed.find((f) => f.id === forGuestOfA.id)!.recipientNode).toBe('node-a');
      });

      it("releasing dead nodes takes their old uploads and guests, never a live node's", async () => {
        const guest = (key: string) => ({ kind: 'guest', guest: key }) as const;
        const bob = await store.accounts.create(account('Bob'));
        const toBob = { nick: 'Bob', party: { kind: 'account', accountId: bob.id } } as const;
        const liveOld = await store.files.create(file({ node: 'node-a', createdAt: 1000 }));
        const deadOld = await store.files.create(file({ node: 'node-b', createdAt: 1000 }));
        const deadRecent = await store.files.create(file({ node: 'node-b', createdAt: 9000 }));
        const forDeadGuest = await store.files.create(
          file({
            node: 'node-a',
            senderParty: guest('s-a1'),
            recipient: { nick: 'erin', party: guest('s-b1') },
            recipientNode: 'node-b',
            createdAt: 9000,
          }),
        );
        const fromDeadGuest = await store.files.create(
          file({ node: 'node-b', senderParty: guest('s-b2'), recipient: toBob, createdAt: 9000 }),
        );
        for (const ready of [forDeadGuest, fromDeadGuest]) await store.files.markReady(ready.id);

        const released = await store.files.releaseNodes(['node-a'], 5000);

        expect(released.map((f) => f.id).sort((x, y) => x - y)).toEqual(
          [deadOld.id, forDeadGuest.id].sort((x, y) => x - y),
        );
        expect(await store.files.get(liveOld.id)).toEqual(liveOld);
        // A recent upload stays; its guest sender, whose node is gone, is detached.
        expect(await store.files.get(deadRecent.id)).toEqual({
          ...deadRecent,
          senderParty: guest(''),
        });
        expect((await store.files.get(fromDeadGuest.id))!.senderParty).toEqual(guest(''));
        expect(await store.files.releaseNodes(['node-a'], 5000)).toEqual([]);
      });
    });

    describe('moderation', () => {
      it('bans: add, active until expiry, lift', async () => {
        const forGood = await store.moderation.addBan({
          nameKey: 'eve',
          name: 'Eve',
          address: '10.0.0.1',
          reason: 'spam',
          createdAt: 100,
          expiresAt: null,
          createdBy: 'admin',
        });
        await store.moderation.addBan({
          nameKey: 'mal',
          name: 'Mal',
          address: null,
          reason: null,
          createdAt: 100,
          expiresAt: 500,
          createdBy: 'admin',
        });
        expect((await store.moderation.activeBans(400)).map((b) => b.name)).toEqual(['Eve', 'Mal']);
        expect(await store.moderation.activeBans(500)).toEqual([forGood]);
        expect(await store.moderation.removeBans('eve')).toBe(1);
        expect(await store.moderation.removeBans('eve')).toBe(0);
        expect(await store.moderation.activeBans(0)).toEqual([]);
      });

      it('suspensions, addresses and switches', async () => {
        await store.moderation.addSuspension({
          nameKey: 'x',
          name: 'X',
          createdAt: 1,
          createdBy: 'admin',
          expiresAt: 500,
        });
        await store.moderation.addSuspension({
          nameKey: 'x',
          name: 'X',
          createdAt: 2,
          createdBy: 'other',
          expiresAt: null,
        });
        expect(await store.moderation.suspensions()).toEqual([
          { nameKey: 'x', name: 'X', createdAt: 1, createdBy: 'admin', expiresAt: 500 },
        ]);
        expect(await store.moderation.removeSuspension('x')).toBe(true);
        expect(await store.moderation.removeSuspension('x')).toBe(false);

        void store.moderation.recordAddress('x', '10.0.0.1', 1);
        void store.moderation.recordAddress('x', '10.0.0.2', 2);
        expect(await store.moderation.lastAddress('x')).toBe('10.0.0.2');
        expect(await store.moderation.lastAddress('y')).toBeUndefined();

        expect(await store.moderation.switches()).toEqual({ locked: false, monitoring: false });
        await store.moderation.setSwitch('locked', true);
        await store.moderation.setSwitch('monitoring', true);
        await store.moderation.setSwitch('monitoring', false);
        expect(await store.moderation.switches()).toEqual({ locked: true, monitoring: false });
      });
    });

    describe('id blocks', () => {
      // Nodes number events, sessions, connections and transfers inside their blocks
      // (src/core/ids/node-ids.ts): two nodes, or two starts, must never share one.
      it('overlapping claims get distinct blocks; a later claim a greater one', async () => {
        const overlapping = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.idBlocks.claim(`node-${i % 3}`, 1000 + i)),
        );
        expect(new Set(overlapping).size).toBe(20);
        expect(overlapping.every((block) => Number.isSafeInteger(block) && block >= 1)).toBe(true);
        let previous = Math.max(...overlapping);
        for (let i = 0; i < 5; i++) {
          const block = await store.idBlocks.claim('node-0', 2000 + i);
          expect(block).toBeGreaterThan(previous);
          previous = block;
        }
      });
    });

    describe('moderation cases', () => {
      it("a name's entries oldest first, counted and the latest by action", async () => {
        const entry = (action: 'warn' | 'note' | 'ban', ts: number, nameKey = 'eve') => ({
          nameKey,
          name: nameKey.toUpperCase(),
          action,
          actor: 'admin',
          reason: action === 'note' ? null : `r${ts}`,
          ts,
          expiresAt: action === 'ban' ? ts + 100 : null,
        });
        const first = await store.cases.add(entry('warn', 10));
        await store.cases.add(entry('note', 20));
        await store.cases.add(entry('warn', 30));
        await store.cases.add(entry('ban', 40));
        await store.cases.add(entry('warn', 50, 'bob'));
        expect(first).toMatchObject({ nameKey: 'eve', action: 'warn', reason: 'r10' });
        expect((await store.cases.forName('eve', 3)).map((e) => [e.action, e.ts])).toEqual([
          ['note', 20],
          ['warn', 30],
          ['ban', 40],
        ]);
        expect(await store.cases.countSince('eve', 'warn', 10)).toBe(2);
        expect(await store.cases.countSince('eve', 'warn', 11)).toBe(1);
        expect(await store.cases.latest('eve', 'ban')).toMatchObject({ ts: 40, expiresAt: 140 });
        expect(await store.cases.latest('bob', 'ban')).toBeUndefined();
      });
    });

    describe('settings and audit', () => {
      it('live settings set, replace, remove', async () => {
        await store.settings.setLive('maxUsers', '10');
        await store.settings.setLive('flood.burst', '5');
        await store.settings.setLive('maxUsers', '20');
        expect(await store.settings.liveValues()).toEqual([
          { key: 'flood.burst', value: '5' },
          { key: 'maxUsers', value: '20' },
        ]);
        await store.settings.removeLive('maxUsers');
        expect(await store.settings.liveValues()).toEqual([{ key: 'flood.burst', value: '5' }]);
      });

      it('audit: the last entries, oldest first', async () => {
        for (let i = 0; i < 5; i++)
          await store.audit.record({
            ts: i,
            actor: 'admin',
            action: `a${i}`,
            target: i % 2 ? 'bob' : null,
            details: null,
          });
        const recent = await store.audit.recent(2);
        expect(recent.map((e) => [e.action, e.target])).toEqual([
          ['a3', 'bob'],
          ['a4', null],
        ]);
        expect(recent[1]!.id).toBeGreaterThan(recent[0]!.id);
      });
    });

    describe('login guard', () => {
      it('a pair locks at the attempt count and starts counting again', async () => {
        const rule = { attempts: 3, lockMs: 1000 };
        expect(await store.loginGuard.recordPairFailure('bob', '1.2.3.4', 10, rule)).toEqual({
          nameKey: 'bob',
          address: '1.2.3.4',
          failures: 1,
          lockedUntil: 0,
        });
        await store.loginGuard.recordPairFailure('bob', '1.2.3.4', 11, rule);
        expect(await store.loginGuard.recordPairFailure('bob', '1.2.3.4', 12, rule)).toEqual({
          nameKey: 'bob',
          address: '1.2.3.4',
          failures: 0,
          lockedUntil: 1012,
        });
        expect(await store.loginGuard.pair('bob', '1.2.3.4')).toMatchObject({
          failures: 0,
          lockedUntil: 1012,
        });
        expect((await store.loginGuard.lockedAt(500)).pairs.map((p) => p.nameKey)).toEqual(['bob']);
        await store.loginGuard.clearPair('bob', '1.2.3.4');
        expect(await store.loginGuard.pair('bob', '1.2.3.4')).toBeUndefined();
      });

      it('an address locks from the attempt count on, within its window', async () => {
        const rule = { attempts: 2, lockMs: 100, windowMs: 1000 };
        expect(await store.loginGuard.recordAddressFailure('9.9.9.9', 0, rule)).toEqual({
          address: '9.9.9.9',
          failures: 1,
          windowStart: 0,
          lockedUntil: 0,
        });
        expect(await store.loginGuard.recordAddressFailure('9.9.9.9', 10, rule)).toMatchObject({
          failures: 2,
          lockedUntil: 110,
        });
        expect(await store.loginGuard.recordAddressFailure('9.9.9.9', 20, rule)).toMatchObject({
          failures: 3,
          lockedUntil: 120,
        });
        // A new window starts over.
        expect(await store.loginGuard.recordAddressFailure('9.9.9.9', 2000, rule)).toEqual({
          address: '9.9.9.9',
          failures: 1,
          windowStart: 2000,
          lockedUntil: 0,
        });
        expect(await store.loginGuard.address('9.9.9.9')).toMatchObject({ failures: 1 });
        await store.loginGuard.prune(5000, 4000);
        expect(await store.loginGuard.address('9.9.9.9')).toBeUndefined();
      });

      it('name attempts: counted unless the rule says wait, refunded, windowed, concurrent ones all count', async () => {
        const guard = store.loginGuard;
        const waitAfterTwo = (current: { failures: number; lastAt: number } | undefined) =>
          current && current.failures >= 2 ? current.lastAt + 100 : 0;
        expect(await guard.takeNameAttempt('ann', 10, 1000, waitAfterTwo)).toEqual({
          taken: true,
          failures: { nameKey: 'ann', failures: 1, windowStart: 10, lastAt: 10 },
        });
        await guard.takeNameAttempt('ann', 20, 1000, waitAfterTwo);
        expect(await guard.takeNameAttempt('ann', 30, 1000, waitAfterTwo)).toEqual({
          taken: false,
          until: 120,
        });
        expect(await guard.nameFailures('ann')).toMatchObject({ failures: 2, windowStart: 10 });
        await guard.refundNameAttempt('ann');
        expect(await guard.nameFailures('ann')).toMatchObject({ failures: 1 });
        // A new window starts over.
        expect(await guard.takeNameAttempt('ann', 5000, 1000, waitAfterTwo)).toMatchObject({
          taken: true,
          failures: { failures: 1, windowStart: 5000 },
        });
        await Promise.all(
          Array.from({ length: 20 }, () => guard.takeNameAttempt('zed', 7, 1000, () => 0)),
        );
        expect((await guard.nameFailures('zed'))!.failures).toBe(20);
        expect(await guard.knownAddress('ann', '1.2.3.4')).toBeUndefined();
        await guard.recordKnownAddress('ann', '1.2.3.4', 50);
        await guard.recordKnownAddress('ann', '1.2.3.4', 60);
        expect(await guard.knownAddress('ann', '1.2.3.4')).toBe(60);
        await guard.prune(100_000, 90_000, 70);
        expect(await guard.knownAddress('ann', '1.2.3.4')).toBeUndefined();
        expect(await guard.nameFailures('ann')).toBeUndefined();
      });

      it('concurrent failures all count', async () => {
        const rule = { attempts: 1000, lockMs: 1 };
        await Promise.all(
          Array.from({ length: 40 }, () =>
            store.loginGuard.recordPairFailure('bob', '1.1.1.1', 5, rule),
          ),
        );
        expect((await store.loginGuard.pair('bob', '1.1.1.1'))!.failures).toBe(40);
      });

      it('unreported failures are returned once, oldest first', async () => {
        const a = await store.accounts.create(account('A'));
        await store.loginGuard.addUnreported(a.id, '1.1.1.1', 10);
        await store.loginGuard.addUnreported(a.id, '2.2.2.2', 5);
        await store.loginGuard.addUnreported(a.id, '1.1.1.1', 20);
        expect(await store.loginGuard.takeUnreported(a.id)).toEqual([
          { address: '2.2.2.2', count: 1, lastAt: 5 },
          { address: '1.1.1.1', count: 2, lastAt: 20 },
        ]);
        expect(await store.loginGuard.takeUnreported(a.id)).toEqual([]);
      });
    });
  });
}
