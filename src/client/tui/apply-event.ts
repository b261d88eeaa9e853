import type { ServerEvent } from '../../protocol/events.js';
import { formatEvent } from '../format.js';
import {
  LOBBY_WINDOW,
  roomWindowId,
  type ChatState,
  type ChatWindow,
  type NoticeLevel,
} from './chat-state.js';
import { nameKey } from '../../protocol/names.js';

/** Names compare by the protocol's key (docs/protocol.md, "Nicknames and names"). */
const fold = nameKey;

/** Whether `text` names `nick` as a word (`alice:`, `@alice`, `hi Alice!`). */
export function mentions(text: string, nick: string | undefined): boolean {
  if (!nick) return false;
  const haystack = fold(text);
  const needle = fold(nick);
  let from = 0;
  for (;;) {
    const index = haystack.indexOf(needle, from);
    if (index < 0) return false;
    const before = haystack[index - 1];
    const after = haystack[index + needle.length];
    const isNameChar = (char: string | undefined) =>
      char !== undefined && /[\p{L}\p{N}_-]/u.test(char);
    if (!isNameChar(before) && !isNameChar(after)) return true;
    from = index + 1;
  }
}

/** The formatted text of an event without its time (the pane shows times itself). */
export function eventText(event: ServerEvent): string | undefined {
  return formatEvent(event)?.replace(/^\[[^\]]*\] (?:(?:--|!!|\*\*|::|>>) )?/, '');
}

/** The look of an event that is not chat: what kind of news it is. */
export function noticeLevel(event: ServerEvent): NoticeLevel {
  switch (event.ev) {
    case 'notice':
      return event.from ? 'announce' : 'notice';
    case 'shutdown':
    case 'shutdown_cancelled':
    case 'warning':
    case 'monitor':
      return 'announce';
    case 'file':
    case 'shared':
    case 'filegone':
      return 'file';
    case 'fileabort':
      return 'error';
    default:
      return 'notice';
  }
}

/** Other people in a private conversation (you alone when writing to yourself). */
export function conversationPeople(
  from: string,
  to: readonly string[],
  me: string | undefined,
): string[] {
  const people = new Map<string, string>();
  for (const name of [from, ...to])
    if (!me || fold(name) !== fold(me)) people.set(fold(name), name);
  return people.size > 0 ? [...people.values()] : [from];
}

/** Puts a server event where it belongs: a room's window, a conversation, or a notice. */
export function applyEvent(state: ChatState, event: ServerEvent): void {
  const me = state.nick;
  const isMe = (name: string) => me !== undefined && fold(name) === fold(me);
  switch (event.ev) {
    case 'hello':
    case 'ping':
    case 'closing':
      return;
    case 'message': {
      // Above presence.announceMax online, logins outside your rooms are not announced:
      // whoever speaks live is online, so their name completes.
      if (event.replay === undefined) state.nicks.add(event.from);
      const window = state.ensureWindow('room', event.room, []);
      state.addChat(window, {
        ts: event.ts,
        from: event.from,
        text: event.text,
        own: isMe(event.from),
        delivery: 'received',
        replay: event.replay,
        mention: !isMe(event.from) && mentions(event.text, me),
      });
      return;
    }
    case 'private': {
      if (event.replay === undefined) state.nicks.add(event.from);
      const people = conversationPeople(event.from, event.to, me);
      const window = state.ensureWindow('private', people.join(','), people);
      state.addChat(window, {
        ts: event.ts,
        from: event.from,
        text: event.text,
        own: isMe(event.from),
        delivery: 'received',
        replay: event.replay,
        // A private message is addressed to you: it always counts as a mention.
        mention: !isMe(event.from),
        to: event.to,
      });
      return;
    }
    case 'online': {
      // Someone already known to be online is not news: after a server restart everyone
      // logs in again, and that must not flood the lobby with "X is online".
      const known = [...state.nicks].some((nick) => fold(nick) === fold(event.nick));
      state.nicks.add(event.nick);
      if (!known)
        state.addNotice(state.findWindow(LOBBY_WINDOW), eventText(event) ?? '', 'event', event.ts);
      return;
    }
    case 'offline': {
      state.nicks.delete(event.nick);
      const text = eventText(event) ?? '';
      for (const window of windowsWith(state, event.nick))
        state.addNotice(window, text, 'event', event.ts);
      return;
    }
    case 'renamed': {
      state.nicks.delete(event.from);
      state.nicks.add(event.to);
      for (const window of state.windows) renameMember(window, event.from, event.to);
      if (isMe(event.from)) state.nick = event.to;
      const text = eventText(event) ?? '';
      for (const window of windowsWith(state, event.from))
        state.addNotice(window, text, 'event', event.ts);
      return;
    }
    case 'room_entered': {
      const window = state.ensureWindow('room', event.room, []);
      window.topic = event.topic ?? null;
      state.addNotice(window, eventText(event) ?? '', 'event', event.ts);
      // A room you join comes to the front; rooms restored at login wait in the list.
      if (!event.restored) state.switchTo(window.id);
      return;
    }
    case 'room_left':
    case 'room_closed': {
      const id = roomWindowId(event.room);
      state.closeWindow(id);
      state.addNotice(state.findWindow(LOBBY_WINDOW), eventText(event) ?? '', 'event', event.ts);
      return;
    }
    case 'room_join':
    case 'room_leave':
    case 'room_topic': {
      const window = state.findWindow(roomWindowId(event.room));
      state.addNotice(
        window ?? state.findWindow(LOBBY_WINDOW),
        eventText(event) ?? '',
        'event',
        event.ts,
      );
      if (event.ev === 'room_join') state.nicks.add(event.nick);
      if (window?.members && event.ev === 'room_join')
        window.members = withMember(window.members, event.nick);
      if (window?.members && event.ev === 'room_leave')
        window.members = window.members.filter((name) => fold(name) !== fold(event.nick));
      if (window && event.ev === 'room_topic') window.topic = event.topic;
      return;
    }
    case 'notice':
    case 'shutdown':
      state.addNotice(undefined, eventText(event) ?? '', noticeLevel(event), event.ts);
      return;
    default: {
      // Events this client version does not know yet still show, in their room if any.
      const unknown = event as { room?: unknown };
      const room =
        typeof unknown.room === 'string' ? state.findWindow(roomWindowId(unknown.room)) : undefined;
      const text = eventText(event);
      if (text)
        state.addNotice(room, text, noticeLevel(event as ServerEvent), (event as ServerEvent).ts);
    }
  }
}

function withMember(members: string[], nick: string): string[] {
  return members.some((name) => fold(name) === fold(nick)) ? members : [...members, nick];
}

function renameMember(window: ChatWindow, from: string, to: string): void {
  if (window.members)
    window.members = window.members.map((name) => (fold(name) === fold(from) ? to : name));
}

/** The lobby plus any private conversation with `nick`: where their comings and goings show. */
function windowsWith(state: ChatState, nick: string): ChatWindow[] {
  return state.windows.filter(
    (window) =>
      window.id === LOBBY_WINDOW ||
      (window.kind === 'private' && window.participants.some((name) => fold(name) === fold(nick))),
  );
}
