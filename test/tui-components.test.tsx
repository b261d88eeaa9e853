import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App, type AppActions } from '../src/client/tui/App.js';
import { ChatState, type ChatLine, type NoticeLevel } from '../src/client/tui/chat-state.js';
import { InputLine } from '../src/client/tui/InputLine.js';
import { MessagePane } from '../src/client/tui/MessagePane.js';
import { ProgressBar } from '../src/client/tui/ProgressBar.js';
import { StatusBar } from '../src/client/tui/StatusBar.js';
import { columns } from '../src/client/tui/text-width.js';
import { cleanup } from 'ink-testing-library';

afterEach(() => cleanup());

const KEYS = {
  left: '\x1b[D',
  right: '\x1b[C',
  up: '\x1b[A',
  down: '\x1b[B',
  home: '\x1b[H',
  end: '\x1b[F',
  backspace: '\x7f',
  tab: '\t',
  enter: '\r',
  escape: '\x1b',
  pageUp: '\x1b[5~',
} as const;

/** Waits (boundedly) until the last frame satisfies `check`. */
async function until(
  frame: () => string | undefined,
  check: (text: string) => boolean,
): Promise<string> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const text = frame() ?? '';
    if (check(text)) return text;
    if (Date.now() > deadline) throw new Error(`Frame never matched:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');
const lastRow = (text: string) => stripAnsi(text.split('\n').at(-1) ?? '');

function chat(
  key: number,
  from: string,
  text: string,
  extra: Partial<Extract<ChatLine, { kind: 'chat' }>> = {},
): ChatLine {
  return {
    kind: 'chat',
    key,
    ts: new Date(2026, 0, 1, 12, 0, key).getTime(),
    from,
    text,
    own: false,
    delivery: 'received',
    replay: undefined,
    mention: false,
    ...extra,
  };
}

describe('MessagePane', () => {
  const lines: ChatLine[] = [
    chat(1, 'alice', 'first'),
    { kind: 'notice', key: 2, ts: 0, text: 'bob is online', level: 'event' },
    chat(3, 'bob', 'an old one', { replay: 'history' }),
    chat(4, 'me', 'mine', { own: true, delivery: 'sending' }),
    chat(5, 'me', 'mine too', { own: true, delivery: 'sent' }),
    chat(
      6,
      'bob',
      '李雷 says hello to everyone in this rather long line that must wrap twice at least',
    ),
  ];

  it('shows the newest lines at the bottom, wrapped to the width, wide characters counted', () => {
    const { lastFrame } = render(<MessagePane lines={lines} width={40} height={8} scroll={0} />);
    const rows = lastFrame()!.split('\n');
    expect(rows).toHaveLength(8);
    for (const row of rows) expect(columns(row)).toBeLessThanOrEqual(40);
    expect(rows.join('\n')).toContain('<bob> 李雷 says hello');
    expect(rows.join(' ')).toContain('least');
    expect(rows.join('\n')).toContain('(history) <bob> an old one');
    expect(rows.join('\n')).toContain('<me> mine …');
    expect(rows.join('\n')).toContain('<me> mine too ✓');
    expect(rows.join('\n')).not.toContain('first');
  });

  it('scrolls back', () => {
    // Far enough up to reach the top: the scroll stops at the first line.
    const { lastFrame } = render(<MessagePane lines={lines} width={40} height={2} scroll={50} />);
    expect(lastFrame()).toContain('first');
    expect(lastFrame()).toContain('bob is online');
    expect(lastFrame()).not.toContain('mine');
  });
});

describe('MessagePane looks', () => {
  const at = new Date(2026, 0, 1, 12, 0, 0).getTime();
  const notice = (key: number, level: NoticeLevel, text: string, continued = false): ChatLine => ({
    kind: 'notice',
    key,
    ts: at,
    text,
    level,
    ...(continued && { continued }),
  });

  it('gives errors, announcements, server notices, file offers and replies each their own mark', () => {
    const { lastFrame } = render(
      <MessagePane
        lines={[
          notice(1, 'error', 'could not send'),
          notice(2, 'announce', 'admin: pizza at noon'),
          notice(3, 'notice', '3 unread private messages'),
          notice(4, 'file', 'bob sent you a.txt'),
          notice(5, 'info', 'Online: 2 users'),
          notice(6, 'event', 'bob is online'),
        ]}
        width={60}
        height={6}
        scroll={0}
      />,
    );
    const rows = stripAnsi(lastFrame()!).split('\n');
    expect(rows[0]).toMatch(/^12:00:00 !! could not send/);
    expect(rows[1]).toMatch(/^12:00:00 \*\* admin: pizza at noon/);
    expect(rows[2]).toMatch(/^12:00:00 :: 3 unread private messages/);
    expect(rows[3]).toMatch(/^12:00:00 >> bob sent you a.txt/);
    expect(rows[4]).toMatch(/^12:00:00 {4}Online: 2 users/);
    expect(rows[5]).toMatch(/^12:00:00 -- bob is online/);
    // Only the error carries the error mark.
    expect(rows.filter((row) => row.includes('!!'))).toHaveLength(1);
  });

  it('indents wrapped lines under the text, and shows a reply block with one time', () => {
    const { lastFrame } = render(
      <MessagePane
        lines={[
          chat(1, 'bob', 'one two three four five six seven eight nine ten eleven'),
          notice(2, 'info', 'Online: 2 users'),
          notice(3, 'info', '  alice', true),
        ]}
        width={30}
        height={6}
        scroll={0}
      />,
    );
    const rows = stripAnsi(lastFrame()!).split('\n');
    const lead = '12:00:01 <bob> ';
    expect(rows[0]!.startsWith(lead)).toBe(true);
    for (const row of rows.slice(1, 4)) expect(row.startsWith(' '.repeat(lead.length))).toBe(true);
    expect(rows.slice(0, 4).join(' ')).toMatch(/eleven/);
    expect(rows.at(-2)).toMatch(/^12:00:00 {4}Online: 2 users/);
    expect(rows.at(-1)).toMatch(/^ {14}alice/);
  });
});

describe('StatusBar', () => {
  it('shows server, nickname, window, connection state and activity', () => {
    const { lastFrame, rerender } = render(
      <StatusBar
        server="chat.example:7777"
        nick="Zoë"
        role="guest"
        window="#lobby"
        connection={{ kind: 'connected' }}
        activity={[{ number: 2, name: '@bob', unread: 3, mentioned: true }]}
        width={100}
      />,
    );
    expect(lastFrame()).toContain(
      '[Zoë (guest)] [#lobby] [chat.example:7777] [connected] [Act: 2:@bob(3)!]',
    );
    rerender(
      <StatusBar
        server="chat.example:7777"
        nick="Zoë"
        role="guest"
        window="#lobby"
        connection={{ kind: 'reconnecting', attempt: 2, inSeconds: 4 }}
        activity={[]}
        width={100}
      />,
    );
    expect(lastFrame()).toContain('[reconnecting in 4s (try 2)]');
    expect(lastFrame()).not.toContain('away');
    expect(lastFrame()).not.toContain('Act:');
  });

  it('fits a narrow terminal', () => {
    const { lastFrame } = render(
      <StatusBar
        server="a-very-long-host-name.example.org:7777"
        nick="alice"
        role="admin"
        window="#lobby"
        connection={{ kind: 'resuming' }}
        activity={[]}
        width={30}
      />,
    );
    expect(columns(lastFrame()!)).toBeLessThanOrEqual(30);
    expect(lastFrame()).toContain('[alice (admin)]');
  });
});

describe('ProgressBar', () => {
  it('shows the bar, percentage, sizes, speed and time left', () => {
    const { lastFrame } = render(
      <ProgressBar
        width={80}
        progress={{
          id: 't1',
          direction: 'download',
          name: 'report.pdf',
          bytes: 5 * 1024 * 1024,
          totalBytes: 10 * 1024 * 1024,
          startedAt: 0,
          now: 5000,
        }}
      />,
    );
    const frame = lastFrame()!;
    expect(frame).toContain('↓ report.pdf [');
    expect(frame).toContain(' 50% 5.0 MiB/10.0 MiB 1.0 MiB/s 0:05 left');
    const bar = /\[(#*)(-*)\]/.exec(frame)!;
    // Half filled (an odd bar width leaves the extra cell empty).
    expect(Math.abs(bar[1]!.length - bar[2]!.length)).toBeLessThanOrEqual(1);
    expect(columns(frame)).toBeLessThanOrEqual(80);
  });

  it('has no speed before any bytes moved', () => {
    const { lastFrame } = render(
      <ProgressBar
        width={60}
        progress={{
          id: 't2',
          direction: 'upload',
          name: 'a.txt',
          bytes: 0,
          totalBytes: 100,
          startedAt: 0,
          now: 0,
        }}
      />,
    );
    expect(lastFrame()).toContain('↑ a.txt [');
    expect(lastFrame()).toContain('  0% 0 B/100 B');
    expect(lastFrame()).not.toContain('/s');
  });
});

describe('InputLine', () => {
  it('masks secrets', () => {
    const { lastFrame } = render(
      <InputLine label="Password:" chars={[...'hunter2']} cursor={7} width={40} masked />,
    );
    expect(lastFrame()).toContain('Password: *******');
    expect(lastFrame()).not.toContain('hunter2');
  });
});

function fakeActions(
  state?: ChatState,
): AppActions & { submitted: string[]; answers: unknown[]; membersAsked: string[] } {
  const submitted: string[] = [];
  const answers: unknown[] = [];
  const membersAsked: string[] = [];
  return {
    submitted,
    answers,
    membersAsked,
    submit: (line) => submitted.push(line),
    answer: (value) => answers.push(value),
    exit: vi.fn(),
    toggleMembers: () => {
      if (!state) return;
      state.showMembers = !state.showMembers;
      state.changed();
    },
    loadMembers: (room) => membersAsked.push(room),
    completion: () => ({
      commands: ['who', 'whoelse', 'join'],
      rooms: ['lobby', 'dev'],
      nicks: ['bob', 'Zoë'],
    }),
  };
}

describe('App input line', () => {
  it('edits with cursor keys, Home/End and Backspace, and submits on Enter', async () => {
    const state = new ChatState();
    const actions = fakeActions();
    const { stdin, lastFrame } = render(
      <App state={state} actions={actions} size={{ columns: 60, rows: 10 }} />,
    );
    const frame = () => lastFrame();
    stdin.write('helo');
    await until(frame, (text) => lastRow(text).includes('helo'));
    stdin.write(KEYS.left);
    stdin.write('l');
    await until(frame, (text) => lastRow(text).includes('hello'));
    stdin.write(KEYS.home);
    stdin.write('¡');
    stdin.write(KEYS.end);
    stdin.write(' 世界');
    stdin.write(KEYS.backspace);
    await until(frame, (text) => lastRow(text).includes('[#lobby] ¡hello 世'));
    stdin.write(KEYS.enter);
    await until(frame, () => actions.submitted.length === 1);
    expect(actions.submitted).toEqual(['¡hello 世']);
    await until(frame, (text) => lastRow(text).trim() === '[#lobby]');
    // Up brings the sent line back.
    stdin.write(KEYS.up);
    await until(frame, (text) => lastRow(text).includes('¡hello 世'));
    stdin.write(KEYS.down);
    await until(frame, (text) => !lastRow(text).includes('hello'));
  });

  it('completes commands and nicknames with Tab', async () => {
    const state = new ChatState();
    const actions = fakeActions();
    const { stdin, lastFrame } = render(
      <App state={state} actions={actions} size={{ columns: 60, rows: 10 }} />,
    );
    stdin.write('/whoe');
    await until(lastFrame, (text) => lastRow(text).includes('/whoe'));
    stdin.write(KEYS.tab);
    await until(lastFrame, (text) => lastRow(text).includes('/whoelse'));
    stdin.write(KEYS.enter);
    await until(lastFrame, () => actions.submitted.length === 1);
    stdin.write('hi z');
    await until(lastFrame, (text) => lastRow(text).includes('hi z'));
    stdin.write(KEYS.tab);
    await until(lastFrame, (text) => lastRow(text).includes('hi Zoë'));
    expect(actions.submitted).toEqual(['/whoelse ']);
  });

  it('keeps the draft while messages arrive and while switching windows', async () => {
    const state = new ChatState();
    state.nick = 'alice';
    const actions = fakeActions();
    const { stdin, lastFrame } = render(
      <App state={state} actions={actions} size={{ columns: 60, rows: 10 }} />,
    );
    stdin.write('half typed');
    await until(lastFrame, (text) => lastRow(text).includes('half typed'));
    const bob = state.ensureWindow('private', 'bob', ['bob']);
    state.addChat(bob, {
      ts: 0,
      from: 'bob',
      text: 'psst alice',
      own: false,
      delivery: 'received',
      replay: undefined,
      mention: true,
    });
    state.addChat(state.currentWindow, {
      ts: 0,
      from: 'carol',
      text: 'hello',
      own: false,
      delivery: 'received',
      replay: undefined,
      mention: false,
    });
    state.changed();
    const frame = await until(
      lastFrame,
      (text) => text.includes('<carol> hello') && text.includes('2:@bob(1)'),
    );
    expect(lastRow(frame)).toContain('[#lobby] half typed');
    expect(frame).toContain('[Act: 2:@bob(1)!]');
    stdin.write('\x1b2'); // Alt+2
    const switched = await until(lastFrame, (text) => text.includes('psst alice'));
    expect(lastRow(switched)).toContain('[@bob] half typed');
    expect(bob.unread).toBe(0);
    stdin.write('\x10'); // Ctrl+P
    await until(lastFrame, (text) => lastRow(text).includes('[#lobby]'));
  });

  it('masks password prompts; a destructive question is shown whole and needs the word typed', async () => {
    const state = new ChatState();
    const actions = fakeActions();
    const { stdin, lastFrame } = render(
      <App state={state} actions={actions} size={{ columns: 60, rows: 10 }} />,
    );
    state.prompt = { label: 'New password', mode: 'secret' };
    state.changed();
    await until(lastFrame, (text) => lastRow(text).startsWith('New password:'));
    stdin.write('s3cret');
    await until(lastFrame, (text) => lastRow(text).includes('******'));
    expect(lastFrame()).not.toContain('s3cret');
    stdin.write(KEYS.enter);
    await until(lastFrame, () => actions.answers.length === 1);
    expect(actions.answers).toEqual(['s3cret']);
    const question = 'Delete your account and everything stored for it? This cannot be undone.';
    state.prompt = { label: 'Type yes to confirm', question, mode: 'confirm' };
    state.changed();
    // Wrapped over two rows of 60 columns, never cut off.
    const shown = await until(lastFrame, (text) =>
      lastRow(text).startsWith('Type yes to confirm:'),
    );
    expect(shown.replace(/\s*\n\s*/g, ' ')).toContain(question);
    // A single key does nothing; the word and Enter answer.
    stdin.write('y');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(actions.answers).toHaveLength(1);
    stdin.write('es');
    stdin.write(KEYS.enter);
    await until(lastFrame, () => actions.answers.length === 2);
    expect(actions.answers[1]).toBe('yes');
    expect(actions.submitted).toEqual([]);
  });

  it("shows a room's topic in a bar, and a member list toggled by Alt+N", async () => {
    const state = new ChatState();
    state.nick = 'me';
    const dev = state.ensureWindow('room', 'dev', []);
    dev.topic = 'release on Friday';
    state.switchTo(dev.id);
    state.addNotice(dev, 'You joined #dev', 'event', 0);
    const actions = fakeActions(state);
    const { stdin, lastFrame } = render(
      <App state={state} actions={actions} size={{ columns: 60, rows: 10 }} />,
    );
    const withTopic = await until(lastFrame, (text) => text.includes('release on Friday'));
    expect(stripAnsi(withTopic.split('\n')[0]!)).toMatch(/^ #dev — release on Friday/);
    expect(withTopic).not.toContain('Members');

    stdin.write('\x1bn');
    // Shown: the room's members are asked for once, then listed beside the messages.
    await until(lastFrame, (text) => text.includes('Members…'));
    expect(actions.membersAsked).toEqual(['dev']);
    dev.members = ['zed', 'amy', 'me'];
    state.changed();
    const listed = await until(lastFrame, (text) => text.includes('Members (3)'));
    const rows = stripAnsi(listed).split('\n');
    const paneRows = rows.filter((row) => /\b(amy|me|zed)\s*$/.test(row));
    expect(paneRows.map((row) => row.trim().split(/\s+/).at(-1))).toEqual(['amy', 'me', 'zed']);

    // A topic change shows at once; Alt+N hides the list again.
    state.findWindow(dev.id)!.topic = null;
    state.changed();
    await until(lastFrame, (text) => text.includes('(no topic'));
    stdin.write('\x1bn');
    await until(lastFrame, (text) => !text.includes('Members'));
  });

  it('scrolls with PgUp and says so', async () => {
    const state = new ChatState();
    for (let index = 0; index < 30; index += 1)
      state.addNotice(state.currentWindow, `line ${index}`, 'info', 0);
    const { stdin, lastFrame } = render(
      <App state={state} actions={fakeActions()} size={{ columns: 60, rows: 10 }} />,
    );
    await until(lastFrame, (text) => text.includes('line 29'));
    stdin.write(KEYS.pageUp);
    const frame = await until(lastFrame, (text) => !text.includes('line 29'));
    expect(lastRow(frame)).toContain('(scrolled)');
    expect(frame).toContain('line 23');
  });

  it('scrolls with the mouse wheel and never types the mouse reports', async () => {
    const state = new ChatState();
    for (let index = 0; index < 30; index += 1)
      state.addNotice(state.currentWindow, `line ${index}`, 'info', 0);
    const { stdin, lastFrame } = render(
      <App state={state} actions={fakeActions()} size={{ columns: 60, rows: 10 }} />,
    );
    await until(lastFrame, (text) => text.includes('line 29'));
    stdin.write('\x1b[<64;10;5M\x1b[<64;10;5M'); // two wheel-ups in one read
    const up = await until(lastFrame, (text) => !text.includes('line 29'));
    expect(up).toContain('line 23');
    expect(up).not.toContain('line 24');
    stdin.write('\x1b[<65;10;5M');
    await until(lastFrame, (text) => text.includes('line 26') && !text.includes('line 27'));
    stdin.write('\x1b[<0;10;5M'); // a click: ignored
    expect(lastRow(lastFrame()!)).not.toContain('<');
  });
});
