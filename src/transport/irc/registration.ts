import type { Session } from '../../core/port.js';
import type { ClosingCode } from '../../protocol/closing.js';
import { checkName } from '../../protocol/names.js';
import { VERSION } from '../../version.js';
import { capabilityTokens, parseCapRequest, splitTokens } from './capabilities.js';
import type { IrcClient } from './irc-client.js';
import { isupportTokens } from './isupport.js';
import { formatMessage, type IrcMessage } from './message.js';
import { ERR, RPL } from './numerics.js';
import { sendLusers, sendMotd } from './server-info.js';
import { joinLobby } from './events.js';

/** Bytes of capability tokens per `CAP LS` line, leaving room for the prefix. */
const CAP_LINE_BYTES = 400;
/** Tokens per RPL_ISUPPORT line (modern.ircdocs: at most 13). */
const ISUPPORT_PER_LINE = 13;
/** A SASL payload arrives in chunks of 400 bytes of base64. */
const SASL_CHUNK = 400;
/** Longest SASL PLAIN payload taken (base64), well above a 1 KiB password. */
const SASL_MAX = 4096;

export function handleCap(client: IrcClient, message: IrcMessage): void | Promise<void> {
  const sub = (message.params[0] ?? '').toUpperCase();
  const star = client.nick;
  switch (sub) {
    case 'LS': {
      const version = Number.parseInt(message.params[1] ?? '0', 10) || 0;
      if (!client.registered) client.capNegotiating = true;
      client.capVersion = Math.max(client.capVersion, version);
      // A 302 client has cap-notify whether or not it asks (capability-negotiation).
      if (client.capVersion >= 302) client.caps.add('cap-notify');
      const lines = splitTokens(capabilityTokens(client.capVersion), CAP_LINE_BYTES);
      lines.forEach((tokens, index) => {
        const more = client.capVersion >= 302 && index < lines.length - 1;
        client.out(
          formatMessage(
            client.serverName,
            'CAP',
            [star, 'LS', ...(more ? ['*'] : []), tokens.join(' ')],
            [],
            true,
          ),
        );
      });
      return;
    }
    case 'LIST':
      client.out(
        formatMessage(
          client.serverName,
          'CAP',
          [star, 'LIST', [...client.caps].join(' ')],
          [],
          true,
        ),
      );
      return;
    case 'REQ': {
      if (!client.registered) client.capNegotiating = true;
      const text = message.params[1] ?? '';
      const request = parseCapRequest(text);
      if (!request.ok) {
        client.out(formatMessage(client.serverName, 'CAP', [star, 'NAK', text], [], true));
        return;
      }
      for (const cap of request.add) client.caps.add(cap);
      for (const cap of request.remove) client.caps.delete(cap);
      client.out(formatMessage(client.serverName, 'CAP', [star, 'ACK', text.trim()], [], true));
      return;
    }
    case 'END':
      if (client.registered) return;
      client.capNegotiating = false;
      return tryRegister(client);
    default:
      client.numeric('410', sub || '*', 'Invalid CAP command');
  }
}

export function handlePass(client: IrcClient, message: IrcMessage): void {
  if (client.registered) return client.numeric(ERR.ALREADYREGISTERED, 'You may not reregister');
  const password = message.params[0];
  if (password === undefined)
    return client.numeric(ERR.NEEDMOREPARAMS, 'PASS', 'Not enough parameters');
  client.password = password;
}

export async function handleNick(client: IrcClient, message: IrcMessage): Promise<void> {
  const wanted = message.params[0];
  if (wanted === undefined || wanted === '')
    return client.numeric(ERR.NONICKNAMEGIVEN, 'No nickname given');
  if (!client.registered) {
    const checked = checkName(wanted);
    if (!checked.ok) return client.numeric(ERR.ERRONEUSNICKNAME, wanted, checked.reason);
    client.wantedNick = checked.name;
    // After SASL the session exists already: its nickname is the account's.
    return tryRegister(client);
  }
  const session = client.link.session;
  if (!session || session.nick === wanted) return;
  const reply = await client.request('nick', { nick: wanted });
  if (!reply.ok) {
    if (reply.error.code === 'already_registered')
      return client.numeric(ERR.NICKLOCKED, wanted, 'An account keeps its nickname');
    client.replyError('NICK', reply.error, wanted);
  }
  // The change itself is told by the `renamed` event, to everyone at once.
}

export function handleUser(client: IrcClient, message: IrcMessage): void | Promise<void> {
  if (client.registered || client.user)
    return client.numeric(ERR.ALREADYREGISTERED, 'You may not reregister');
  const [username, , , realname] = message.params;
  if (username === undefined || realname === undefined || username === '')
    return client.numeric(ERR.NEEDMOREPARAMS, 'USER', 'Not enough parameters');
  client.user = { username, realname };
  return tryRegister(client);
}

/** NICK, USER and (when negotiating) CAP END are all in: log in and welcome. */
function tryRegister(client: IrcClient): void | Promise<void> {
  if (client.registered || client.closing) return;
  if (!client.user || client.capNegotiating) return;
  if (client.link.session) return welcome(client);
  if (client.wantedNick === undefined) return;
  return login(client, client.wantedNick);
}

async function login(client: IrcClient, nick: string): Promise<void> {
  const args = client.password === undefined ? { nick } : { nick, password: client.password };
  const reply = await client.request('nick', args);
  if (client.registered || client.closing) return;
  if (reply.ok) return welcome(client);
  const { code } = reply.error;
  if (
    code === 'nick_taken' ||
    code === 'invalid_nick' ||
    code === 'nick_reserved' ||
    code === 'nick_confusable' ||
    code === 'already_logged_in'
  ) {
    const message =
      code === 'nick_reserved'
        ? `${nick} belongs to an account: log in with SASL PLAIN or PASS (its password)`
        : reply.error.message;
    // Registration waits for another NICK, as on any IRC server.
    client.wantedNick = undefined;
    client.replyError('NICK', { code, message }, nick);
    return;
  }
  if (client.replyError('NICK', reply.error, nick))
    client.core.closeLink(client.link, closingCodeOf(reply.error.code), reply.error.message);
}

/** The registration burst: 001–005, LUSERS, MOTD, then #lobby and the restored rooms. */
function welcome(client: IrcClient): void {
  const session = client.link.session;
  if (!session) return;
  client.registered = true;
  const server = client.serverName;
  const nick = session.nick;
  const user = client.user?.username ?? nick;
  client.out(
    formatMessage(server, RPL.WELCOME, [
      nick,
      `Welcome to the ${networkName(client)} IRC network, ${nick}!${user}@${server}`,
    ]),
  );
  client.out(
    formatMessage(server, RPL.YOURHOST, [
      nick,
      `Your host is ${server}, running version confab-${VERSION}`,
    ]),
  );
  client.out(
    formatMessage(server, RPL.CREATED, [
      nick,
      `This server was created ${client.shared.createdAt.toUTCString()}`,
    ]),
  );
  client.out(
    formatMessage(server, RPL.MYINFO, [nick, server, `confab-${VERSION}`, 'io', 'bnot', 'bo']),
  );
  const tokens = isupportTokens(client.core.params, networkName(client));
  for (let i = 0; i < tokens.length; i += ISUPPORT_PER_LINE)
    client.out(
      formatMessage(server, RPL.ISUPPORT, [
        nick,
        ...tokens.slice(i, i + ISUPPORT_PER_LINE),
        'are supported by this server',
      ]),
    );
  sendLusers(client, (line) => client.out(line));
  sendMotd(client, (line) => client.out(line));
  if (session.account && !client.saslDone)
    client.out(
      formatMessage(server, RPL.LOGGEDIN, [
        nick,
        client.mask(nick),
        session.account.name,
        `You are now logged in as ${session.account.name}`,
      ]),
    );
  // Every Confab session is in the lobby: IRC sees it as a channel joined at once. The
  // events held since the login (restored rooms, missed messages) follow its names.
  joinLobby(client);
}

function networkName(client: IrcClient): string {
  return client.serverName === 'confab' ? 'Confab' : client.serverName;
}

export async function handleAuthenticate(client: IrcClient, message: IrcMessage): Promise<void> {
  const data = message.params[0] ?? '';
  if (client.registered || client.link.session)
    return client.numeric(ERR.SASLALREADY, 'You have already authenticated using SASL');
  if (!client.has('sasl'))
    return client.numeric(
      ERR.SASLFAIL,
      'SASL authentication failed: request the sasl capability first',
    );
  const state = client.sasl;
  if (data === '*') {
    client.sasl = undefined;
    return client.numeric(ERR.SASLABORTED, 'SASL authentication aborted');
  }
  if (!state) {
    if (data.toUpperCase() !== 'PLAIN') {
      client.numeric(RPL.SASLMECHS, 'PLAIN', 'are available SASL mechanisms');
      return client.numeric(ERR.SASLFAIL, 'SASL authentication failed');
    }
    client.sasl = { buffer: '' };
    client.out(formatMessage(undefined, 'AUTHENTICATE', ['+']));
    return;
  }
  if (data !== '+') state.buffer += data;
  if (state.buffer.length > SASL_MAX) {
    client.sasl = undefined;
    return client.numeric(ERR.SASLTOOLONG, 'SASL message too long');
  }
  // A full chunk means more follows (an exact multiple ends with "+").
  if (data.length === SASL_CHUNK) return;
  client.sasl = undefined;
  const decoded = Buffer.from(state.buffer, 'base64').toString('utf8');
  const [authzid, authcid, password] = decoded.split('\0');
  if (authcid === undefined || password === undefined || (authzid !== '' && authzid !== authcid))
    return client.numeric(ERR.SASLFAIL, 'SASL authentication failed: malformed PLAIN payload');
  // The login itself: the same command, password check and lockout as every client's.
  const reply = await client.request('nick', { nick: authcid, password });
  if (!reply.ok) {
    const text =
      reply.error.code === 'login_failed' ? 'SASL authentication failed' : reply.error.message;
    client.numeric(ERR.SASLFAIL, text);
    if (
      reply.error.code === 'banned' ||
      reply.error.code === 'server_full' ||
      reply.error.code === 'shutting_down' ||
      reply.error.code === 'server_locked'
    )
      client.core.closeLink(client.link, closingCodeOf(reply.error.code), reply.error.message);
    return;
  }
  const session = client.link.session as Session | null;
  if (!session?.account) return;
  client.saslDone = true;
  // Until the welcome, events for the new session wait behind it.
  client.hold();
  const account = session.account.name;
  client.out(
    formatMessage(client.serverName, RPL.LOGGEDIN, [
      client.nick,
      client.mask(session.nick),
      account,
      `You are now logged in as ${account}`,
    ]),
  );
  client.numeric(RPL.SASLSUCCESS, 'SASL authentication successful');
}

export function handlePing(client: IrcClient, message: IrcMessage): void {
  const token = message.params[0];
  if (token === undefined) return client.numeric(ERR.NOORIGIN, 'No origin specified');
  client.out(formatMessage(client.serverName, 'PONG', [client.serverName, token]));
}

export async function handleQuit(client: IrcClient, message: IrcMessage): Promise<void> {
  const text = message.params[0];
  if (!client.link.session) {
    client.core.closeLink(client.link, 'quit', 'Quit');
    return;
  }
  await client.request(
    'quit',
    text === undefined || text === '' ? {} : { message: text.slice(0, 1000) },
  );
}

/** The closing code (logs) for a refused login that ends an IRC connection. */
function closingCodeOf(code: string): ClosingCode {
  return code === 'banned' || code === 'shutting_down' ? code : 'quit';
}
