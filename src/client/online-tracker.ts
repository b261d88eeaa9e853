import type { ServerEvent } from '../protocol/events.js';
import { nameKey } from '../protocol/names.js';

/**
 * Who this client believes is online: seeded from `/who` after login, then kept from the
 * presence events (and from anyone heard speaking live, since above
 * `presence.announceMax` logins outside your rooms are not announced). The parser asks it
 * whether a seed's bare form (`message bob hi`) names someone online.
 */
export class OnlineTracker {
  private readonly people = new Map<string, string>();

  seed(names: Iterable<string>): void {
    for (const name of names) this.people.set(nameKey(name), name);
  }

  observe(event: ServerEvent): void {
    switch (event.ev) {
      case 'online':
        this.people.set(nameKey(event.nick), event.nick);
        return;
      case 'offline':
        this.people.delete(nameKey(event.nick));
        return;
      case 'renamed':
        this.people.delete(nameKey(event.from));
        this.people.set(nameKey(event.to), event.to);
        return;
      case 'room_join':
        this.people.set(nameKey(event.nick), event.nick);
        return;
      case 'message':
      case 'private':
        if (event.replay === undefined) this.people.set(nameKey(event.from), event.from);
        return;
      default:
        return;
    }
  }

  has(name: string): boolean {
    return this.people.has(nameKey(name));
  }

  names(): string[] {
    return [...this.people.values()];
  }
}
