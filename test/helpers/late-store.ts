import type { CommitListener, NewMessage, Store, StoredMessage } from '../../src/store/store.js';

/**
 * The shared store, but an append of `text` resolves only when `gate` does (after it is
 * stored): its node fans it out late, after messages stored later, as a slow node would.
 */
export function lateAppend(
  store: Store,
  text: string,
  stored: () => void,
  gate: Promise<void>,
): Store {
  const append = async (message: NewMessage) => {
    const appended = await store.messages.append(message);
    if (message.text === text) {
      stored();
      await gate;
    }
    return appended;
  };
  // The core appends a message through either form: both wait at the gate.
  const appendThen = (message: NewMessage, listener: CommitListener<StoredMessage>) => {
    append(message).then(
      (appended) => listener.committed(appended),
      (error: unknown) => listener.failed(error as Error),
    );
  };
  const messages = new Proxy(store.messages, {
    get(target, property) {
      if (property === 'append') return append;
      if (property === 'appendThen') return appendThen;
      return Reflect.get(target, property, target) as unknown;
    },
  });
  return new Proxy(store, {
    get: (target, property) =>
      property === 'messages' ? messages : (Reflect.get(target, property, target) as unknown),
  });
}
