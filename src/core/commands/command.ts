import type { z } from 'zod';
import type { CommandInfo } from '../catalog.js';
import type { ChatCore } from '../chat-core.js';
import type { NewMessage, StoredMessage } from '../../store/store.js';
import type { Link, OrderedStep, Session } from '../session.js';

/** Before login a request has only its link; after login it also has a session. */
export interface LoginContext {
  readonly core: ChatCore;
  readonly link: Link;
  /** Runs after the reply has been sent (for example: close the connection after `quit`). */
  after(action: () => void): void;
}

export interface SessionContext extends LoginContext {
  readonly session: Session;
  /**
   * A pipelined handler calls this right after handing its message to the store
   * (`committing`): the link's next request may start at once, and `then` (fan-out, the
   * acknowledgement's data) runs once the commit is done and every earlier message of
   * this sender has had its `then`. The store completes concurrent calls in any order;
   * this is what keeps a sender's messages in the order sent, for everyone. The handler
   * returns the step; the dispatcher answers with `then`'s result in its turn.
   */
  commitInOrder<T, R extends object>(
    committing: Promise<T>,
    then: (stored: T) => R,
  ): OrderedStep<R>;
  /**
   * `commitInOrder` for the usual case, where what the step waits for is this message's
   * append: the store tells the step its commit directly (`MessageStore.appendThen`),
   * without a promise per message.
   */
  appendInOrder<R extends object>(
    message: NewMessage,
    then: (stored: StoredMessage) => R,
  ): OrderedStep<R>;
}

interface BaseCommand<S extends z.ZodType> {
  readonly info: Omit<CommandInfo, 'admin' | 'params'>;
  readonly args: S;
  /** Admin-only commands are refused with `not_authorized` to everyone else, in one place. */
  readonly admin?: boolean;
  /**
   * True when this request is paced by its own flow control (file chunks: a window at a
   * time), so flood control, meant for chat, would only throttle a transfer.
   */
  readonly unmetered?: (core: ChatCore, link: Link) => boolean;
  /**
   * The handler calls `ctx.commitInOrder` once its message is handed to the store, so a
   * sender's next message need not wait for this one's commit (group commit then carries
   * many messages of one sender in one transaction). Per-sender order is kept by the core
   * (`SenderOrder`), not by the order in which the store completes calls.
   */
  readonly pipelined?: boolean;
}

/**
 * One entry of the command table. `phase` says when it may run: `login` only before the
 * nickname step is done, `session` only after, `any` at either time. The dispatcher checks
 * phase, role and arguments before a handler runs, so handlers hold only the feature logic.
 */
export type CommandDefinition<S extends z.ZodType = z.ZodType> =
  | (BaseCommand<S> & {
      readonly phase: 'login';
      handle(ctx: LoginContext, args: z.output<S>): Promise<object> | object;
    })
  | (BaseCommand<S> & {
      readonly phase: 'session';
      handle(
        ctx: SessionContext,
        args: z.output<S>,
      ): Promise<object> | OrderedStep<object> | object;
    })
  | (BaseCommand<S> & {
      readonly phase: 'any';
      handle(
        ctx: LoginContext & { session: Session | null },
        args: z.output<S>,
      ): Promise<object> | object;
    });

/** Keeps each definition's argument type while collecting them in one table. */
export function defineCommand<S extends z.ZodType>(
  definition: CommandDefinition<S>,
): CommandDefinition {
  return definition as unknown as CommandDefinition;
}
