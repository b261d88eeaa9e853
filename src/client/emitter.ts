/**
 * A typed event emitter for code that runs in Node and in the browser alike (the shared
 * client library): Node's `events` module is not in a page, and `EventTarget` wraps every
 * payload in an `Event`. Listeners run in the order added; one that throws does not stop
 * the others from being called, and its error is rethrown asynchronously (as an uncaught
 * error, where each platform reports it).
 */
export class Emitter<Events extends { [name: string]: unknown[] }> {
  /** Listeners by event name; typed by `on`, the only way in. */
  private readonly listeners = new Map<keyof Events, unknown[]>();

  on<K extends keyof Events>(name: K, listener: (...args: Events[K]) => void): this {
    const list = this.listeners.get(name);
    if (list) list.push(listener);
    else this.listeners.set(name, [listener]);
    return this;
  }

  once<K extends keyof Events>(name: K, listener: (...args: Events[K]) => void): this {
    const wrapper = (...args: Events[K]) => {
      this.off(name, wrapper);
      listener(...args);
    };
    return this.on(name, wrapper);
  }

  off<K extends keyof Events>(name: K, listener: (...args: Events[K]) => void): this {
    const list = this.listeners.get(name);
    const index = list?.lastIndexOf(listener) ?? -1;
    if (list && index >= 0) list.splice(index, 1);
    return this;
  }

  listenerCount(name: keyof Events): number {
    return this.listeners.get(name)?.length ?? 0;
  }

  protected emit<K extends keyof Events>(name: K, ...args: Events[K]): void {
    const list = this.listeners.get(name);
    if (!list) return;
    // A copy: a listener may remove itself (once) or others while this runs.
    for (const listener of [...list]) {
      try {
        (listener as (...args: Events[K]) => void)(...args);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
