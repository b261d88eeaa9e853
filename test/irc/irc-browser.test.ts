import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { TestWsClient } from '../helpers/ws-client.js';
import { IrcLineClient } from './line-client.js';

/**
 * A browser user (the web client's protocol over /ws, as the page speaks it) and an IRC
 * user in the same chat: messages, private messages, rooms and away both ways.
 */
let server: TestServer | undefined;
const clients: IrcLineClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.dispose();
  server = undefined;
});

describe('a browser user and an IRC user', () => {
  it('chat in the lobby, a room and privately, and see each other away', async () => {
    server = await startTestServer({ web: true, ircPort: 0 });
    const webPort = server.server.webAddress!.port;
    const web = await TestWsClient.connect(`ws://127.0.0.1:${webPort}/ws`, {
      origin: `http://127.0.0.1:${webPort}`,
    });
    await web.waitFor((frame) => 'ev' in frame && frame.ev === 'hello');
    const irc = await IrcLineClient.register(server.server.ircAddress!.port, 'ircy', [
      'away-notify',
      'echo-message',
      'server-time',
      'message-tags',
    ]);
    clients.push(irc);
    expect(await web.request('nick', { nick: 'webby' })).toMatchObject({ ok: true });
    await irc.next(':webby!webby@confab JOIN #lobby');

    await web.request('say', { room: 'lobby', text: 'hi from a browser' });
    await irc.next(/^@time=\S+;msgid=\d+ :webby!webby@confab PRIVMSG #lobby :hi from a browser$/);

    irc.send('PRIVMSG webby :hello browser');
    await irc.next(/ :ircy!ircy@confab PRIVMSG webby :hello browser$/);
    expect(await web.waitFor((frame) => 'ev' in frame && frame.ev === 'private')).toMatchObject({
      from: 'ircy',
      text: 'hello browser',
    });

    irc.send('JOIN #tea');
    await irc.next(/ 366 ircy #tea /);
    expect(await web.request('join', { room: 'tea' })).toMatchObject({ ok: true });
    await irc.next(':webby!webby@confab JOIN #tea');
    await web.request('say', { room: 'tea', text: 'tea for two' });
    await irc.next(/ :webby!webby@confab PRIVMSG #tea :tea for two$/);
    irc.send('PRIVMSG #tea :/me pours');
    const seen = await web.waitFor(
      (frame) =>
        'ev' in frame && frame.ev === 'message' && frame.room === 'tea' && frame.from === 'ircy',
    );
    expect(seen).toMatchObject({ text: '/me pours' });

    await web.request('away', { message: 'making tea' });
    await irc.next(':webby!webby@confab AWAY :making tea');
    irc.send('AWAY :back soon');
    await irc.next(/ 306 ircy /);
    const who = await web.request('whois', { name: 'ircy' });
    expect(who).toMatchObject({ ok: true, data: { status: 'away', awayMessage: 'back soon' } });

    // Both connections are counted by transport.
    const metrics = await server.server.metrics!.render();
    expect(metrics).toContain('confab_connections{transport="websocket"} 1');
    expect(metrics).toContain('confab_connections{transport="irc"} 1');
  });
});
