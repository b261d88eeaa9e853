import { describe, expect, it } from 'vitest';
import {
  dateTime,
  describeError,
  formatEvent,
  formatHelp,
  formatReply,
} from '../src/client/format.js';
import { applyEvent, noticeLevel } from '../src/client/tui/apply-event.js';
import { ChatState, roomWindowId } from '../src/client/tui/chat-state.js';
import type { CommandInfo } from '../src/protocol/catalog.js';

function command(name: string, group: string, admin = false): CommandInfo {
  return {
    name,
    aliases: [],
    bare: [],
    args: [],
    params: [],
    summary: `${name} things`,
    admin,
    group,
  };
}

const CATALOGUE = [
  command('nick', 'session'),
  command('join', 'rooms'),
  command('kick', 'admin', true),
  command('who', 'presence'),
  command('leave', 'rooms'),
  { ...command('filechunk', 'files'), hidden: true },
];

describe('help', () => {
  it('groups commands by area and lists admin commands only for admins', () => {
    const local = [{ usage: '/clear', summary: 'clear this window' }];
    const user = formatHelp(CATALOGUE, local, { admin: false });
    expect(user.filter((row) => !row.startsWith(' '))).toEqual([
      'Session:',
      'Rooms:',
      'Who is here:',
      'This client:',
    ]);
    expect(user.join('\n')).toMatch(/Rooms:\n {2}\/join +join things\n {2}\/leave +leave things/);
    expect(user.join('\n')).not.toMatch(/kick|filechunk/);
    const admin = formatHelp(CATALOGUE, local, { admin: true });
    expect(admin).toContain('Administration:');
    expect(admin.join('\n')).toMatch(/Administration:\n {2}\/kick +kick things/);
  });
});

describe('command output', () => {
  const users = [
    { nick: 'alice', session: 's1', status: 'active', role: 'user', idleSeconds: 0 },
    { nick: 'bob', session: 's2', status: 'away', role: 'guest', idleSeconds: 600 },
  ];

  it('/who and /whoelse print a header and a count; /wholasthr too', () => {
    const who = formatReply('who', { users });
    expect(who[0]).toBe('Online: 2 users');
    expect(who[1]).toMatch(/^ {2}Nick +Session +Status +Role$/);
    expect(who.slice(2)).toHaveLength(2);
    expect(who[3]).toContain('(idle 10m)');
    expect(formatReply('whoelse', { users: users.slice(0, 1) })[0]).toBe('Others online: 1 user');
    expect(formatReply('whoelse', { users: [] })).toEqual(['Others online: nobody']);
    const seen = formatReply('wholasthr', {
      seen: [{ nick: 'carol', online: true, account: true, lastSeen: Date.now() }],
    });
    expect(seen[0]).toBe('Seen in the last hour: 1 user');
  });

  it('counts read right and times are local', () => {
    expect(formatReply('shutdown', { seconds: 1 })).toEqual(['Shutting down in 1 second']);
    const at = Date.UTC(2026, 11, 7, 10, 0, 0);
    expect(formatEvent({ ev: 'shutdown', seconds: 1, id: 1, ts: at })).toMatch(
      /\*\* Server shutting down in 1 second$/,
    );
    const files = formatReply('files', {
      waiting: [],
      shared: [{ file: 'f1', name: 'a.txt', size: 10, from: 'bob', expiresAt: at }],
    });
    expect(files.join('\n')).toContain(`until ${dateTime(at)}`);
  });
});

describe('errors in words', () => {
  it('turns file-system errors into sentences with the path', async () => {
    const { stat } = await import('node:fs/promises');
    const missing = await stat('/nonexistent/report.pdf').catch((error: unknown) => error);
    expect(describeError(missing)).toBe('There is no file /nonexistent/report.pdf');
    const folder = await import('node:fs/promises').then(({ readFile }) =>
      readFile('/tmp').catch((error: unknown) => error),
    );
    expect(describeError(folder)).toMatch(/is a folder, not a file$/);
    expect(describeError(new Error('plain'))).toBe('plain');
  });
});

describe('event looks', () => {
  it('tells an announcement from a server notice, and neither looks like an error', () => {
    const ts = Date.now();
    const announcement = { ev: 'notice', from: 'admin', text: 'pizza', id: 1, ts } as const;
    const notice = { ev: 'notice', text: '3 unread', id: 2, ts } as const;
    expect(formatEvent(announcement)).toMatch(/\] \*\* admin: pizza$/);
    expect(formatEvent(notice)).toMatch(/\] :: 3 unread$/);
    expect(noticeLevel(announcement)).toBe('announce');
    expect(noticeLevel(notice)).toBe('notice');
    expect(
      noticeLevel({
        ev: 'shared',
        from: 'bob',
        name: 'a',
        size: 1,
        file: 'f1',
        id: 3,
        ts,
      } as never),
    ).toBe('file');
  });

  it("keeps a room's topic and known members up to date from events", () => {
    const state = new ChatState();
    const ts = Date.now();
    applyEvent(state, { ev: 'room_entered', room: 'dev', topic: 'ship it', ts } as never);
    const dev = state.findWindow(roomWindowId('dev'))!;
    expect(dev.topic).toBe('ship it');
    applyEvent(state, { ev: 'room_topic', room: 'dev', topic: null, by: 'amy', id: 4, ts });
    expect(dev.topic).toBeNull();
    // Members are tracked once the list was fetched.
    dev.members = ['amy'];
    applyEvent(state, { ev: 'room_join', room: 'dev', nick: 'bob', ts } as never);
    applyEvent(state, { ev: 'renamed', from: 'bob', to: 'rob', ts } as never);
    expect(dev.members).toEqual(['amy', 'rob']);
    applyEvent(state, { ev: 'room_leave', room: 'dev', nick: 'amy', ts } as never);
    expect(dev.members).toEqual(['rob']);
  });
});

describe('where received files go', () => {
  it("is the user's Downloads folder when there is one, else the current folder", async () => {
    const { mkdtempSync, mkdirSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { defaultDownloadsDir } = await import('../src/client/downloads.js');
    const home = mkdtempSync(path.join(tmpdir(), 'confab-home-'));
    const saved = process.env.HOME;
    try {
      process.env.HOME = home;
      expect(defaultDownloadsDir()).toBe(process.cwd());
      mkdirSync(path.join(home, 'Downloads'));
      expect(defaultDownloadsDir()).toBe(path.join(home, 'Downloads'));
    } finally {
      process.env.HOME = saved;
      rmSync(home, { recursive: true, force: true });
    }
  });
});
