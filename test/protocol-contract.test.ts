import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandInfo } from '../src/protocol/catalog.js';
import { CLOSING_CODES, isClosingCode } from '../src/protocol/closing.js';
import { ERROR_CODES, isErrorCode } from '../src/protocol/errors.js';
import type { Reply } from '../src/protocol/frames.js';
import type { z } from 'zod';
import { ERROR_DETAILS, REPLY_SCHEMAS } from '../src/protocol/replies.js';
import { startTestServer, TEST_ADMIN_PASSWORD, type TestServer } from './helpers/server.js';
import { Wire } from './helpers/wire.js';

/**
 * The protocol contract, checked on a real server over real sockets: every command in the
 * catalogue is sent with valid arguments (its reply must match the command's reply schema
 * in src/protocol/replies.ts) and with invalid ones (the reply must be `invalid_args`);
 * every error and closing code seen must be in the registries, and docs/protocol.md must
 * list every command's wire arguments, every registered code and nothing else.
 */

const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');

/** The rows of the markdown tables under the heading `title` (up to the next `## `). */
function tableRows(title: string): string[][] {
  const start = doc.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`docs/protocol.md has no "## ${title}"`);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

/** The first column's codes of a section's tables (header rows left out). */
function documentedCodes(title: string): string[] {
  return tableRows(title)
    .map((row) => /^`([a-z0-9_]+)`$/.exec(row[0] ?? '')?.[1])
    .filter((code): code is string => code !== undefined);
}

const detailSchemas: Readonly<Record<string, z.ZodType | undefined>> = ERROR_DETAILS;
const replySchemas: Readonly<Record<string, z.ZodType | undefined>> = REPLY_SCHEMAS;

/** Whether `value` has the catalogue type `type` (`string`, `integer[]`, `string|integer`). */
function hasType(value: unknown, type: string): boolean {
  return type.split('|').some((alternative) => {
    if (alternative.endsWith('[]'))
      return Array.isArray(value) && value.every((item) => hasType(item, alternative.slice(0, -2)));
    if (alternative === 'integer') return Number.isInteger(value);
    return typeof value === alternative;
  });
}

/**
 * What a generic client knows before sending: the request's args checked against the
 * catalogue's `params` alone. Returns the problems (an empty list when it conforms).
 */
function checkAgainstCatalogue(command: CommandInfo, args: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const params = new Map(command.params.map((param) => [param.name, param]));
  for (const [key, value] of Object.entries(args)) {
    const param = params.get(key);
    if (!param) problems.push(`${command.name}: "${key}" is not in the catalogue`);
    else if (!hasType(value, param.type))
      problems.push(`${command.name}: "${key}" is not ${param.type}`);
    else if (param.values && !param.values.includes(value))
      problems.push(`${command.name}: "${key}" is not one of ${param.values.join(', ')}`);
  }
  for (const param of command.params)
    if (!param.optional && !(param.name in args))
      problems.push(`${command.name}: "${param.name}" is required`);
  return problems;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A value no parameter type accepts: every param is a string, number, boolean or array. */
const NOT_ANY_TYPE = { not: 'a valid value' };

describe('protocol contract (real server)', () => {
  let server: TestServer;
  let catalogue: CommandInfo[];
  /** Every ok reply seen, by command. */
  const okReplies = new Map<string, object[]>();
  /** Every reply seen, for the registry checks. */
  const allReplies: Reply[] = [];

  /** Requests that the catalogue alone would not have let a client build. */
  const nonConforming: string[] = [];
  const record = (cmd: string, reply: Reply): Reply => {
    allReplies.push(reply);
    if (reply.ok) okReplies.set(cmd, [...(okReplies.get(cmd) ?? []), reply.data]);
    return reply;
  };
  /** Sends, records, and requires an ok reply. */
  /** Every connection of the scenario still open: each is settled after every command. */
  const open = new Set<Wire>();
  const connect = async () => {
    const wire = await Wire.connect(server.port);
    open.add(wire);
    return wire;
  };
  const drop = (wire: Wire) => {
    open.delete(wire);
    wire.destroy();
  };
  /** The events each command brought, by command: to its sender before and after the reply, and to others. */
  const order = new Map<string, { before: Set<string>; after: Set<string>; others: Set<string> }>();
  const eventNames = (frames: readonly object[]) =>
    frames.flatMap((frame) =>
      // File data flows as the server reads the file, at no fixed place (documented apart).
      'ev' in frame && frame.ev !== 'ping' && frame.ev !== 'filedata' ? [String(frame.ev)] : [],
    );

  const ok = async (wire: Wire, cmd: string, args?: object) => {
    const command = catalogue?.find((entry) => entry.name === cmd);
    if (catalogue && !command) nonConforming.push(`${cmd}: not in the catalogue`);
    if (command)
      nonConforming.push(
        ...checkAgainstCatalogue(command, (args ?? {}) as Record<string, unknown>),
      );
    const marks = new Map([...open].map((other) => [other, other.mark]));
    const sent = wire.send(cmd, args);
    const reply = record(cmd, await wire.reply(sent));
    const replyAt = wire.frames.findIndex((frame) => 're' in frame && frame.re === sent);
    // Nothing else happens meanwhile, so whatever reaches anyone until all are settled
    // came from this command.
    await Promise.all([...open].map((other) => other.settle()));
    const seen = order.get(cmd) ?? { before: new Set(), after: new Set(), others: new Set() };
    order.set(cmd, seen);
    const mark = marks.get(wire) ?? 0;
    for (const name of eventNames(wire.frames.slice(mark, replyAt))) seen.before.add(name);
    for (const name of eventNames(wire.frames.slice(replyAt + 1))) seen.after.add(name);
    for (const [other, otherMark] of marks)
      if (other !== wire)
        for (const name of eventNames(other.frames.slice(otherMark))) seen.others.add(name);
    if (wire.raw.isClosed) open.delete(wire);
    if (!reply.ok)
      throw new Error(`${cmd} ${JSON.stringify(args)} failed: ${JSON.stringify(reply.error)}`);
    return reply.data as Record<string, unknown> & { [key: string]: never };
  };

  beforeAll(async () => {
    server = await startTestServer({
      // The scenario sends many requests quickly; flood control has its own tests.
      set: { 'flood.burst': 500, 'flood.perSecond': 500 },
    });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('sends every command in the catalogue with valid arguments; each reply matches its schema', async () => {
    const alice = await connect();
    await ok(alice, 'hello', { protocols: [1], capabilities: ['files', 'resume'] });
    const cat = await ok(alice, 'catalogue');
    catalogue = cat.commands as unknown as CommandInfo[];
    await ok(alice, 'ping');
    await ok(alice, 'nick', { nick: 'alice' });
    await ok(alice, 'register', { password: 'alice-password-1' });

    const bob = await connect();
    await ok(bob, 'nick', { nick: 'bob' });
    const admin = await connect();
    await ok(admin, 'nick', { nick: 'admin', password: TEST_ADMIN_PASSWORD });

    // Messaging, presence, inbox.
    await ok(alice, 'say', { room: 'lobby', text: 'hello all' });
    await ok(alice, 'msg', { to: ['bob'], text: 'psst' });
    await ok(alice, 'broadcast', { text: 'to everyone' });
    await ok(alice, 'who');
    await ok(alice, 'whoelse');
    await ok(alice, 'wholasthr');
    await ok(bob, 'away', { message: 'at lunch' });
    await ok(alice, 'whois', { name: 'bob' });
    await ok(alice, 'who');
    await ok(bob, 'away');
    await ok(alice, 'inbox');
    await ok(alice, 'inbox', { which: 'all' });
    await ok(alice, 'history', { room: 'lobby', count: 10 });
    // Guest rename.
    await ok(bob, 'nick', { nick: 'bobby' });
    await ok(bob, 'nick', { nick: 'bob' });

    // Rooms.
    await ok(alice, 'create', { room: 'tea' });
    await ok(bob, 'join', { room: 'tea' });
    await ok(alice, 'topic', { room: 'tea', text: 'Earl Grey' });
    await ok(alice, 'topic', { room: 'tea' });
    await ok(alice, 'members', { room: 'tea' });
    await ok(alice, 'rooms');
    await ok(alice, 'remove', { room: 'tea', nick: 'bob', reason: 'test' });
    await ok(alice, 'close', { room: 'tea' });
    await ok(alice, 'create', { room: 'cake' });
    await ok(alice, 'leave', { room: 'cake' });

    // Blocking.
    await ok(alice, 'block', { name: 'bob' });
    await ok(alice, 'blocked');
    await ok(alice, 'unblock', { name: 'bob' });

    // Accounts.
    await ok(alice, 'passwd', { oldPassword: 'alice-password-1', newPassword: 'alice-password-2' });
    await ok(admin, 'lockouts');

    // Files: a private file fetched, one declined, a shared one downloaded and cancelled.
    const content = Buffer.from('contract test file\n'.repeat(100));
    const facts = { name: 'notes.txt', size: content.length, sha256: sha256(content) };
    const sent = await ok(alice, 'send', { to: 'bob', ...facts });
    const transfer = sent.transfer as unknown as string;
    await ok(alice, 'filechunk', { transfer, offset: 0, data: content.toString('base64') });
    const done = await ok(alice, 'filedone', { transfer });
    await ok(bob, 'files');
    const bobMark = bob.mark;
    const got = await ok(bob, 'get', { from: 'alice', file: done.file, window: 1 });
    await bob.event('filedata', bobMark);
    await ok(bob, 'filecredit', { transfer: got.transfer, chunks: 4 });
    await ok(bob, 'filedone', { transfer: got.transfer });
    const second = await ok(alice, 'send', { to: 'bob', ...facts, name: 'second.txt' });
    await ok(alice, 'filechunk', {
      transfer: second.transfer,
      offset: 0,
      data: content.toString('base64'),
    });
    const secondDone = await ok(alice, 'filedone', { transfer: second.transfer });
    await ok(bob, 'decline', { from: 'alice', file: secondDone.file });
    const shared = await ok(alice, 'upload', facts);
    const half = content.subarray(0, 1000);
    await ok(alice, 'filechunk', {
      transfer: shared.transfer,
      offset: 0,
      data: half.toString('base64'),
    });
    await ok(alice, 'fileresume', { transfer: shared.transfer });
    await ok(alice, 'filelink', { transfer: shared.transfer });
    await ok(alice, 'filechunk', {
      transfer: shared.transfer,
      offset: 1000,
      data: content.subarray(1000).toString('base64'),
    });
    const sharedDone = await ok(alice, 'filedone', { transfer: shared.transfer });
    await ok(bob, 'filelink', { file: sharedDone.file });
    const down = await ok(bob, 'download', { file: sharedDone.file, window: 1 });
    await ok(bob, 'filecancel', { transfer: down.transfer });
    await ok(alice, 'get');
    await ok(alice, 'unshare', { file: sharedDone.file });

    // Administration, on guests made for it.
    const targets: Wire[] = [];
    for (const nick of ['dave', 'eve', 'frank']) {
      const wire = await connect();
      await ok(wire, 'nick', { nick });
      targets.push(wire);
    }
    await ok(admin, 'exempt', { nick: 'bob' });
    await ok(admin, 'unexempt', { nick: 'bob' });
    await ok(admin, 'warn', { nick: 'frank', reason: 'be nice' });
    await ok(admin, 'note', { nick: 'frank', text: 'seemed sorry' });
    await ok(admin, 'cases', { nick: 'frank' });
    await ok(admin, 'suspend', { nick: 'frank' });
    await ok(admin, 'forgive', { nick: 'frank' });
    await ok(admin, 'kick', { nick: 'dave', reason: 'testing' });
    await ok(admin, 'ban', { nick: 'eve', duration: '10m', reason: 'testing' });
    await ok(admin, 'bans');
    await ok(admin, 'unban', { nick: 'eve' });
    await ok(admin, 'lock');
    await ok(admin, 'unlock');
    await ok(admin, 'announce', { text: 'maintenance at noon' });
    await ok(admin, 'monitor', { state: 'on' });
    await ok(admin, 'monitor', { state: 'off' });
    await ok(admin, 'config');
    await ok(admin, 'config', { key: 'history.replay', value: 40 });
    await ok(admin, 'config', { action: 'reset', key: 'history.replay' });
    await ok(admin, 'users');
    await ok(admin, 'shutdown', { seconds: 3600, reason: 'not really' });
    await ok(admin, 'shutdown', { action: 'cancel' });

    // Resume, on a connection that was lost.
    const carol = await connect();
    const login = await ok(carol, 'nick', { nick: 'carol' });
    await ok(carol, 'create', { room: 'den' });
    drop(carol);
    await ok(alice, 'msg', { to: ['carol'], text: 'while you were away' });
    const back = await connect();
    // The last event carol saw: the replay starts after it.
    const seenIds = carol.frames.flatMap((frame) =>
      'ev' in frame && 'id' in frame ? [frame.id] : [],
    );
    await ok(back, 'resume', { token: login.resumeToken, lastEventId: Math.max(0, ...seenIds) });

    await ok(alice, 'deregister', { password: 'alice-password-2', confirm: true });
    await ok(bob, 'quit', { message: 'bye' });
    await bob.raw.closed();
    for (const wire of [...open]) drop(wire);

    if (process.env.CONTRACT_DUMP)
      for (const [cmd, replies] of okReplies) console.log(cmd, JSON.stringify(replies));

    expect(nonConforming).toEqual([]);
    const untried = catalogue.map((command) => command.name).filter((name) => !okReplies.has(name));
    expect(untried).toEqual([]);
    for (const [cmd, replies] of okReplies) {
      const schema = replySchemas[cmd];
      expect(schema, `reply schema for ${cmd}`).toBeDefined();
      for (const data of replies) {
        const result = schema!.safeParse(data);
        expect(result.error?.issues, `${cmd} reply ${JSON.stringify(data)}`).toBeUndefined();
      }
    }
  });

  it('has a reply schema for exactly the commands in the catalogue', () => {
    expect(Object.keys(REPLY_SCHEMAS).sort()).toEqual(catalogue.map((c) => c.name).sort());
  });

  it('lists every wire argument the issue names, and no client-side path', () => {
    const params = (name: string) =>
      catalogue.find((command) => command.name === name)?.params.map((param) => param.name);
    const required = (name: string) =>
      catalogue
        .find((command) => command.name === name)
        ?.params.filter((param) => !param.optional)
        .map((param) => param.name);
    for (const name of ['say', 'history', 'topic']) expect(params(name)).toContain('room');
    expect(params('nick')).toEqual(expect.arrayContaining(['nick', 'password', 'takeover']));
    expect(params('resume')).toEqual(expect.arrayContaining(['token', 'lastEventId']));
    expect(required('send')).toEqual(['to', 'name', 'size', 'sha256']);
    expect(required('upload')).toEqual(['name', 'size', 'sha256']);
    for (const command of catalogue)
      expect(command.params.map((param) => param.name)).not.toContain('path');
    expect(required('filechunk')).toEqual(['transfer', 'offset', 'data']);
    expect(required('filecredit')).toEqual(['transfer', 'chunks']);
    for (const step of ['filedone', 'filecancel', 'fileresume'])
      expect(required(step)).toEqual(['transfer']);
    // Everything people type is on the wire too, except what the client turns into
    // something else (a path into name, size and sha256).
    for (const command of catalogue)
      for (const arg of command.args)
        if (arg.kind !== 'path')
          expect(params(command.name), `${command.name} ${arg.name}`).toContain(arg.name);
  });

  it('answers invalid_args to every command whose arguments break the catalogue', async () => {
    const admin = await Wire.connect(server.port);
    await admin.ok('nick', { nick: 'admin', password: TEST_ADMIN_PASSWORD });
    const fresh = await Wire.connect(server.port);
    const wrong: string[] = [];
    for (const command of catalogue) {
      const wire = command.name === 'resume' ? fresh : admin;
      const target = command.params.find((param) => !param.optional) ?? command.params[0];
      if (!target) {
        // Nothing to get wrong: keys a command does not take are ignored, as documented.
        if (command.name === 'lock') continue; // would lock the server to logins
        const reply = await wire.call(command.name, { unexpected: true });
        allReplies.push(reply);
        if (!reply.ok && reply.error.code === 'invalid_args')
          wrong.push(`${command.name}: an unknown key was refused`);
        continue;
      }
      const broken = { [target.name]: NOT_ANY_TYPE };
      const reply = await wire.call(command.name, broken);
      allReplies.push(reply);
      if (reply.ok || reply.error.code !== 'invalid_args')
        wrong.push(`${command.name} ${JSON.stringify(broken)}: ${JSON.stringify(reply)}`);
      else if (!reply.error.message.includes(target.name))
        wrong.push(`${command.name}: the message does not name ${target.name}`);
    }
    admin.destroy();
    fresh.destroy();
    expect(wrong).toEqual([]);
  });

  it('answers only with registered error codes', () => {
    const codes = allReplies.flatMap((reply) => (reply.ok ? [] : [reply.error.code]));
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.filter((code) => !isErrorCode(code))).toEqual([]);
  });

  it('gives each error the details shape of its code', () => {
    const wrong: string[] = [];
    for (const reply of allReplies) {
      if (reply.ok) continue;
      const { code, details } = reply.error;
      const schema = detailSchemas[code];
      if (!schema) {
        if (details !== undefined)
          wrong.push(`${code}: undocumented details ${JSON.stringify(details)}`);
      } else if (details !== undefined && !schema.safeParse(details).success)
        wrong.push(`${code}: details ${JSON.stringify(details)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('documents each command with every wire argument in docs/protocol.md', () => {
    const rows = ['Commands', 'Administration', 'HTTP file transfer'].flatMap(tableRows);
    const problems: string[] = [];
    for (const command of catalogue) {
      // A command may have several rows (one per form): its arguments are all of them.
      const forms = rows.filter((cells) => cells[0] === `\`${command.name}\``);
      const row = forms.length > 0 ? ['', forms.map((cells) => cells[1]).join(' ')] : undefined;
      if (!row) {
        problems.push(`${command.name}: no row`);
        continue;
      }
      for (const param of command.params)
        if (!(row[1] ?? '').includes(`\`${param.name}`))
          problems.push(`${command.name}: ${param.name} not in its args column`);
    }
    expect(problems).toEqual([]);
  });

  it('documents exactly the registered error codes, each once', () => {
    const documented = documentedCodes('Error codes');
    expect(documented.filter((code, i) => documented.indexOf(code) !== i)).toEqual([]);
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    // Each code's details column names every field of its details shape, and only codes
    // with a shape have one.
    const problems: string[] = [];
    for (const row of tableRows('Error codes')) {
      const code = /^`([a-z0-9_]+)`$/.exec(row[0] ?? '')?.[1];
      if (!code) continue;
      const schema = detailSchemas[code] as z.ZodObject | undefined;
      const column = row[2] ?? '';
      if (!schema) {
        if (column !== '') problems.push(`${code}: details documented but none registered`);
        continue;
      }
      for (const key of Object.keys(schema.shape))
        if (!column.includes(key)) problems.push(`${code}: details.${key} not documented`);
    }
    expect(problems).toEqual([]);
  });

  it('documents exactly the registered closing codes, each once', () => {
    const documented = documentedCodes('Closing codes');
    expect(documented.filter((code, i) => documented.indexOf(code) !== i)).toEqual([]);
    expect([...documented].sort()).toEqual(Object.keys(CLOSING_CODES).sort());
    expect(Object.keys(CLOSING_CODES).every(isClosingCode)).toBe(true);
  });
  it('documents the order of the reply and the events of every command', () => {
    const cell = (names: Set<string> | undefined) =>
      [...(names ?? [])]
        .sort()
        .map((name) => `\`${name}\``)
        .join(', ') || '—';
    const rows = catalogue.map((command) => {
      const seen = order.get(command.name);
      return [`\`${command.name}\``, cell(seen?.before), cell(seen?.after), cell(seen?.others)];
    });
    const start = '<!-- order-table:start -->';
    const end = '<!-- order-table:end -->';
    const table = [
      '| cmd | to you, before the reply | to you, after the reply | to others |',
      '| --- | --- | --- | --- |',
      ...rows.map((row) => `| ${row.join(' | ')} |`),
    ].join('\n');
    if (process.env.CONTRACT_WRITE) {
      const from = doc.indexOf(start) + start.length;
      writeFileSync(
        new URL('../docs/protocol.md', import.meta.url),
        doc.slice(0, from) + '\n\n' + table + '\n\n' + doc.slice(doc.indexOf(end)),
      );
      return; // written: `npx prettier --write docs/protocol.md`, then run again to check
    }
    const section = doc.slice(doc.indexOf(start), doc.indexOf(end));
    expect(section.length, 'order-table markers in docs/protocol.md').toBeGreaterThan(start.length);
    const documented = section
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) =>
        line
          .slice(1, -1)
          .split('|')
          .map((cellText) => cellText.trim()),
      );
    expect(documented).toEqual(rows);
  });
});
