import { z } from 'zod';
import { LOBBY } from '../chat-core.js';
import { ChatError } from '../errors.js';
import { checkName } from '../names.js';
import { summarize } from '../nodes/node-link.js';
import { describe } from './presence.js';
import { defineCommand } from './command.js';

interface Seen {
  nick: string;
  online: boolean;
  account: boolean;
  lastSeen: number;
}

export const wholasthrCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'wholasthr',
    aliases: [],
    bare: ['wholasthr'],
    args: [],
    summary: 'everyone seen within the recent-presence window, you excluded',
    group: 'presence',
  },
  args: z.object({}),
  async handle({ core, session }) {
    const now = core.clock.now();
    const windowSeconds = core.params['presence.recentSeconds'];
    const since = now - windowSeconds * 1000;
    const seen = new Map<string, Seen>();
    const add = (key: string, entry: Seen) => {
      const known = seen.get(key);
      if (key !== session.nickKey && (!known || (!known.online && known.lastSeen < entry.lastSeen)))
        seen.set(key, entry);
    };
    for (const online of await core.nodes.who())
      add(online.nickKey, {
        nick: online.nick,
        online: true,
        account: online.account !== null,
        lastSeen: now,
      });
    // This node's own leavers first (known without waiting), then every node's.
    const departures = await core.directory.departures(since).catch(() => []);
    for (const gone of [...core.recentPresence.since(since), ...departures])
      add(gone.key, {
        nick: gone.nick,
        online: false,
        account: gone.account,
        lastSeen: gone.lastSeen,
      });
    // Accounts seen before a restart are known only to the store.
    for (const account of await core.store.presence.accountsSeenSince(since))
      add(account.nameKey, {
        nick: account.name,
        online: false,
        account: true,
        lastSeen: account.lastSeenAt,
      });
    const users = [...seen.values()].sort(
      (a, b) => b.lastSeen - a.lastSeen || a.nick.localeCompare(b.nick),
    );
    return { seen: users, windowSeconds };
  },
});

export const whoisCommand = defineCommand({
  phase: 'session',
  info: {
    name: 'whois',
    aliases: [],
    bare: [],
    args: [{ name: 'name', kind: 'name' }],
    summary: 'last seen, rooms, idle time, account or guest (and to admins, the address)',
    group: 'presence',
  },
  args: z.object({ name: z.string() }),
  async handle({ core, session }, args) {
    const checked = checkName(args.name);
    const unknown = () =>
      new ChatError('unknown_user', `No such user: ${args.name}`, { unknown: [args.name] });
    if (!checked.ok) throw unknown();
    const roomName = (key: string) => (key === LOBBY ? LOBBY : (core.rooms.get(key)?.name ?? key));
    const local = core.findSession(checked.key);
    const remote = local ? undefined : await core.findRemote(checked.key);
    const online = local ? summarize(core, local) : remote && (await core.nodes.whois(remote));
    if (online) {
      const presence = describe(core, online);
      return {
        ...presence,
        online: true,
        lastSeen: core.clock.now(),
        rooms: [LOBBY, ...online.rooms].map(roomName),
        // Where they connect from is for moderators alone (bans, abuse reports); it is the
        // client's own address behind a trusted balancer (PROXY protocol, X-Forwarded-For).
        // Null while the session waits to be resumed with no connection.
        ...(session.isAdmin && { address: online.address }),
      };
    }
    const sighting =
      core.recentPresence.find(checked.key) ??
      (await core.directory.departure(checked.key).catch(() => undefined));
    const account = await core.store.accounts.findByKey(checked.key);
    if (!account && !sighting) throw unknown();
    const lastSeen = Math.max(sighting?.lastSeen ?? 0, account?.lastSeenAt ?? 0) || null;
    return {
      nick: account?.name ?? sighting!.nick,
      online: false,
      account: account !== undefined,
      role: account?.role ?? 'guest',
      lastSeen,
      // An account still belongs to its persistent rooms while offline.
      rooms: account ? core.rooms.roomsOfAccount(account.id).map((room) => room.name) : [],
    };
  },
});
