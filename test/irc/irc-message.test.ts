import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  escapeTagValue,
  formatMessage,
  parseMessage,
  unescapeTagValue,
} from '../../src/transport/irc/message.js';
import { parseCapRequest, splitTokens } from '../../src/transport/irc/capabilities.js';
import { splitByBytes, textFromIrc, textLines } from '../../src/transport/irc/text.js';
import { IRC_ERROR_FORMS } from '../../src/transport/irc/error-replies.js';
import { ERROR_CODES } from '../../src/core/errors.js';

describe('IRC message syntax', () => {
  it('parses tags, source, command and parameters as modern.ircdocs describes', () => {
    const message = parseMessage(
      "@id=234AB;+example.com/x=a\\sb\\:c :dan!d@localhost PRIVMSG #chan :Hey what's up!",
    );
    expect(message).toEqual({
      tags: new Map([
        ['id', '234AB'],
        ['+example.com/x', 'a b;c'],
      ]),
      source: 'dan!d@localhost',
      command: 'PRIVMSG',
      params: ['#chan', "Hey what's up!"],
    });
    expect(parseMessage('cap  req   :sasl  ')?.params).toEqual(['req', 'sasl  ']);
    expect(parseMessage('CAP REQ :')?.params).toEqual(['REQ', '']);
    expect(parseMessage('PING')?.params).toEqual([]);
    expect(parseMessage('')).toBeNull();
    expect(parseMessage('@a=b')).toBeNull();
    expect(parseMessage(':source.only')).toBeNull();
  });

  it('escapes and unescapes tag values both ways', () => {
    const raw = 'semi;space backslash\\ cr\r lf\n';
    expect(unescapeTagValue(escapeTagValue(raw))).toBe(raw);
    expect(unescapeTagValue('trailing\\')).toBe('trailing');
    expect(unescapeTagValue('\\b')).toBe('b');
  });

  it('writes a trailing parameter only where it must (or is asked to)', () => {
    expect(formatMessage('srv', 'PONG', ['srv', 'token'])).toBe(':srv PONG srv token');
    expect(formatMessage('srv', '001', ['nick', 'Welcome'], [], true)).toBe(
      ':srv 001 nick :Welcome',
    );
    expect(formatMessage(undefined, 'PRIVMSG', ['#a', ':)'])).toBe('PRIVMSG #a ::)');
    expect(formatMessage(undefined, 'PRIVMSG', ['#a', ''])).toBe('PRIVMSG #a :');
    expect(
      formatMessage(
        undefined,
        'TAGMSG',
        ['#a'],
        [
          ['msgid', 'x y'],
          ['flag', ''],
        ],
      ),
    ).toBe('@msgid=x\\sy;flag TAGMSG #a');
  });
});

describe('IRC text', () => {
  it('cuts long texts at grapheme boundaries within 512 bytes per line', () => {
    const family = '👨‍👩‍👧‍👦';
    const text = family.repeat(100);
    const lines = textLines([['msgid', '7']], 'a!a@confab', 'PRIVMSG', '#room', text);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines)
      expect(Buffer.byteLength(line.replace(/^@\S+ /, '')) + 2).toBeLessThanOrEqual(512);
    expect(lines[0]).toMatch(/^@msgid=7 /);
    expect(lines.slice(1).every((line) => !line.startsWith('@'))).toBe(true);
    const rejoined = lines
      .map((line) => line.slice(line.indexOf(' :', line.indexOf('PRIVMSG')) + 2))
      .join('');
    expect(rejoined).toBe(text);
    expect(splitByBytes('ab', 1)).toEqual(['a', 'b']);
  });

  it('never lets CR, LF or NUL through: line breaks become lines', () => {
    const lines = textLines([], 'a!a@c', 'PRIVMSG', 'bob', 'one\r\ntwo\nthree\0four');
    expect(lines).toEqual([
      ':a!a@c PRIVMSG bob :one',
      ':a!a@c PRIVMSG bob :two',
      ':a!a@c PRIVMSG bob :threefour',
    ]);
  });

  it('takes ACTION as "* nick …", drops other CTCP and formatting codes', () => {
    expect(textFromIrc('\x01ACTION waves\x01', 'ann')).toBe('* ann waves');
    expect(textFromIrc('\x01VERSION\x01', 'ann')).toBeNull();
    expect(textFromIrc('\x02bold\x02 \x0304,05red\x03 plain', 'ann')).toBe('bold red plain');
  });
});

describe('CAP and error tables', () => {
  it('accepts or refuses a CAP REQ as a whole', () => {
    expect(parseCapRequest('server-time -echo-message')).toEqual({
      ok: true,
      add: ['server-time'],
      remove: ['echo-message'],
    });
    expect(parseCapRequest('server-time bogus')).toEqual({ ok: false });
    expect(parseCapRequest('-cap-notify')).toEqual({ ok: false });
    expect(splitTokens(['aaaa', 'bbbb', 'cccc'], 10)).toEqual([['aaaa', 'bbbb'], ['cccc']]);
  });

  it('has an IRC form for every Confab error code, each tabled in docs/irc.md', () => {
    expect(Object.keys(IRC_ERROR_FORMS).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    const doc = readFileSync(new URL('../../docs/irc.md', import.meta.url), 'utf8');
    for (const [code, form] of Object.entries(IRC_ERROR_FORMS)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\``));
      expect(row, code).toBeDefined();
      expect(row).toContain(form.fail);
      if (form.numeric) expect(row).toContain(form.numeric);
    }
  });
});
