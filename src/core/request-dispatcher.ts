import { illFormedPath } from './text-rules.js';
import type { z } from 'zod';
import { StoreUnavailableError } from '../store/store.js';
import { paramsOf, type CommandInfo } from './catalog.js';
import type { ChatCore, Request } from './chat-core.js';
import type { CommandDefinition } from './commands/command.js';
import type { Admission } from './limits/request-guard.js';
import { ChatError, ERROR_CODES } from './errors.js';
import { errorReply, OrderedStep, type Link, type Reply, type StepListener } from './session.js';
import type { ReplyTurn } from './link.js';

/**
 * A login's outcome for the metrics. A `nick_reserved` answer is the server asking for the
 * password, not a failure; a wrong password with `retryAfterSeconds` is a lockout.
 */
function countLogin(core: ChatCore, request: Request, reply: Reply): void {
  if (reply.ok) {
    core.telemetry.login(request.cmd === 'resume' ? 'resumed' : 'ok');
    return;
  }
  const { code, details } = reply.error;
  if (code === 'nick_reserved') return;
  if (code === 'wrong_password' || code === 'login_failed')
    core.telemetry.login(details?.retryAfterSeconds === undefined ? 'bad_password' : 'locked_out');
  else core.telemetry.login(code === 'banned' ? 'banned' : 'refused');
}

/** Pipelined requests one link may have waiting for their commit at once. */
const MAX_PIPELINED_REQUESTS = 32;

/**
 * The command table and the one place every request is metered, checked and dispatched:
 * in order per link, each reply after the ones before it.
 */
export class RequestDispatcher {
  readonly catalogue: readonly CommandInfo[];
  private readonly table = new Map<string, CommandDefinition>();

  constructor(
    readonly core: ChatCore,
    commands: readonly CommandDefinition[],
  ) {
    for (const command of commands) {
      if (this.table.has(command.info.name))
        throw new Error(`Command ${command.info.name} is defined twice`);
      this.table.set(command.info.name, command);
    }
    this.catalogue = Object.freeze(
      commands.map((command) =>
        Object.freeze({
          ...command.info,
          // From the schema requests are checked with, never a list kept by hand.
          params: paramsOf(command.args),
          admin: command.admin === true,
        }),
      ),
    );
  }

  /**
   * Handles one request; requests of one link are handled in order, one at a time, each
   * metered by the request guard as it arrives. Never rejects: whatever goes wrong with
   * one request ends that link, not the process.
   */
  receive(link: Link, request: Request): Promise<void> {
    const { core } = this;
    const command = this.table.get(request.cmd);
    const admission = command?.unmetered?.(core, link)
      ? ({ kind: 'run' } as const)
      : core.requestGuard.admit(link);
    if (admission.kind === 'close') {
      const { code, message } = admission;
      // Every request gets exactly one reply: the ones before this still get theirs, this
      // one is refused in its turn, and only then is the connection closed.
      return link.enqueue(async () => {
        await link.repliesSent();
        if (link.isClosed) return;
        link.outlet.send(errorReply(request.id, 'too_many_requests', message));
        core.closeLink(link, code, message);
      });
    }
    if (admission.kind === 'run' && command?.pipelined === true)
      return link.enqueueJob((release, finish) => {
        if (link.pipelinedInFlight < MAX_PIPELINED_REQUESTS && !link.isClosed)
          this.runPipelined(link, request, release, finish);
        else
          this.runAlone(link, request, admission, release).then(
            () => {
              release();
              finish();
            },
            (error: unknown) => {
              this.failed(link, request, error);
              release();
              finish();
            },
          );
      });
    return link.enqueue((release) =>
      this.runAlone(link, request, admission, release).catch((error: unknown) =>
        this.failed(link, request, error),
      ),
    );
  }

  /**
   * A pipelined request (a message): it takes its reply turn, runs its handler, which
   * releases the link once the message is queued for commit, and answers in its turn. No
   * async function and no promise of its own: what waits for the commit is one
   * `PipelinedRequest` (turn, step listener and reply in one object) and the handler's
   * own continuation.
   */
  private runPipelined(
    link: Link,
    request: Request,
    release: () => void,
    finish: () => void,
  ): void {
    link.pipelinedInFlight++;
    const waiting = new PipelinedRequest(this, link, request.id, request.cmd, finish);
    const reply = this.dispatch(link, request, waiting.after, release);
    // The usual message: queued for commit (so the link is released already), its step
    // answers once committed and in its sender's order.
    if (reply instanceof OrderedStep) {
      release();
      reply.onSettled(waiting);
      return;
    }
    // A handler that answered without queueing a message (a refusal) has not released the
    // link, nor has one still waiting (a recipient looked up on another node) unless it
    // queued its message already: the next request starts once this one's is queued, or
    // once it is answered, never before, so a sender's messages keep their order.
    if (!(reply instanceof Promise)) {
      release();
      waiting.answer(reply);
      return;
    }
    reply.then(
      (value) => {
        release();
        waiting.answer(value);
      },
      (error: unknown) => {
        release();
        this.failed(link, request, error);
        waiting.abandon();
      },
    );
  }

  /** The reply to a pipelined handler's step that has run (see `PipelinedRequest`). */
  stepReply(
    link: Link,
    request: Request,
    after: (action: () => void) => void,
    failed: boolean,
    outcome: unknown,
  ): Reply {
    return failed
      ? this.refused(link, request, after, outcome)
      : { re: request.id, ok: true, data: outcome as object };
  }

  /** Any request: it waits for every earlier reply, runs alone, then answers. */
  private async runAlone(
    link: Link,
    request: Request,
    admission: Exclude<Admission, { kind: 'close' }>,
    release: () => void,
  ): Promise<void> {
    const { core } = this;
    if (admission.kind === 'delay') await core.requestGuard.wait(admission.until);
    if (link.isClosed) return;
    if (admission.kind === 'refuse') {
      const { retryAfterMs, disconnect } = admission;
      await link.inOrder(Promise.resolve(), () =>
        this.refuseFlood(link, request, retryAfterMs, disconnect),
      );
      return;
    }
    const pipelined =
      this.table.get(request.cmd)?.pipelined === true &&
      link.pipelinedInFlight < MAX_PIPELINED_REQUESTS;
    // Anything else sees the effects of every earlier request, as if they ran alone.
    if (!pipelined) await link.repliesSent();
    if (link.isClosed) return;
    const afterReply: Array<() => void> = [];
    if (pipelined) link.pipelinedInFlight++;
    const started = performance.now();
    const after = (action: () => void) => afterReply.push(action);
    const dispatched = this.dispatch(link, request, after, pipelined ? release : () => {});
    const reply =
      dispatched instanceof OrderedStep
        ? new Promise<Reply>((resolve) =>
            dispatched.onSettled({
              stepRun: (failed, outcome) =>
                resolve(this.stepReply(link, request, after, failed, outcome)),
            }),
          )
        : Promise.resolve(dispatched);
    await link.inOrder(reply, (answer) => {
      core.telemetry.commandFinished(request.cmd, (performance.now() - started) / 1000);
      if (request.cmd === 'nick' || request.cmd === 'resume') countLogin(core, request, answer);
      if (pipelined) link.pipelinedInFlight--;
      if (!link.isClosed) link.outlet.send(answer);
      const pending = pipelined ? afterReply : [...afterReply, ...link.takeAfterReply()];
      for (const action of pending) action();
    });
  }

  /** Whatever goes wrong with one request ends that link, not the process. */
  failed(link: Link, request: Request, error: unknown): void {
    this.core.logger.error({ err: error, cmd: request.cmd, link: link.id }, 'request failed');
    if (!link.isClosed) this.core.closeLink(link, 'internal_error', ERROR_CODES.internal_error);
  }

  private refuseFlood(link: Link, request: Request, retryAfterMs: number, disconnect: boolean) {
    this.core.telemetry.floodRefused();
    link.outlet.send(
      errorReply(request.id, 'rate_limited', ERROR_CODES.rate_limited, { retryAfterMs }),
    );
    if (!disconnect) return;
    this.core.logger.warn(
      { event: 'flooding', link: link.id, session: link.session?.id, address: link.outlet.address },
      'disconnected a flooding session',
    );
    this.core.closeLink(link, 'flooding', 'Too many requests: slow down');
  }

  /**
   * Checks and runs one request's handler. The reply is a value when the handler answers
   * at once (every check that refuses does), a promise when it waits for something, and a
   * pipelined handler's step when it waits for its commit (see `whenRun`).
   */
  private dispatch(
    link: Link,
    request: Request,
    after: (action: () => void) => void,
    ordered: () => void,
  ): Reply | Promise<Reply> | OrderedStep {
    const { core } = this;
    const re = request.id;
    const command = this.table.get(request.cmd);
    if (!command) return errorReply(re, 'unknown_command', `There is no command "${request.cmd}"`);
    const session = link.session;
    if (command.phase === 'session' && !session)
      return errorReply(re, 'not_ready', ERROR_CODES.not_ready);
    if (command.phase === 'login' && session)
      return errorReply(re, 'already_ready', ERROR_CODES.already_ready);
    const refusal = session && core.admin.refusalFor(session, command.info.name);
    if (refusal) return errorReply(re, refusal.code, refusal.message);
    if (command.admin && !session?.isAdmin)
      return errorReply(re, 'not_authorized', `/${command.info.name} is for admins only`);
    const illFormed = illFormedPath(request.args);
    if (illFormed)
      return errorReply(
        re,
        'invalid_args',
        `Invalid arguments for ${command.info.name}: ${illFormed.join('.') || 'args'}: not well-formed Unicode (a lone surrogate)`,
      );
    const parsed = command.args.safeParse(request.args ?? {});
    if (!parsed.success)
      return errorReply(re, 'invalid_args', describeArgsError(command.info.name, parsed.error));
    if (session && request.cmd !== 'ping') session.lastInputAt = core.clock.now();

    let data: Promise<object> | OrderedStep<object> | object;
    try {
      data =
        command.phase === 'login'
          ? command.handle({ core, link, after }, parsed.data)
          : command.phase === 'session'
            ? command.handle(
                {
                  core,
                  link,
                  after,
                  session: session!,
                  commitInOrder: (committing, then) => {
                    ordered();
                    return session!.sendOrder.after(committing, then);
                  },
                  appendInOrder: (message, then) => {
                    ordered();
                    return session!.sendOrder.afterAppend(core.store.messages, message, then);
                  },
                },
                parsed.data,
              )
            : command.handle({ core, link, after, session }, parsed.data);
    } catch (error) {
      return this.refused(link, request, after, error);
    }
    if (data instanceof OrderedStep) return data;
    if (!(data instanceof Promise)) return { re, ok: true, data };
    return data.then(
      (value): Reply => ({ re, ok: true, data: value }),
      (error: unknown) => this.refused(link, request, after, error),
    );
  }

  /** The reply to a handler that threw: its error, or a generic one for a bug. */
  private refused(
    link: Link,
    request: Request,
    after: (action: () => void) => void,
    error: unknown,
  ): Reply {
    const { core } = this;
    const re = request.id;
    if (error instanceof ChatError) return errorReply(re, error.code, error.message, error.details);
    if (error instanceof StoreUnavailableError) {
      core.logger.error({ err: error, cmd: request.cmd }, 'storage failed');
      return errorReply(re, 'storage_failed', ERROR_CODES.storage_failed);
    }
    // A bug in one handler ends that one session, never the process.
    core.logger.error({ err: error, cmd: request.cmd, link: link.id }, 'request handler failed');
    after(() => core.closeLink(link, 'internal_error', ERROR_CODES.internal_error));
    return errorReply(re, 'internal_error', ERROR_CODES.internal_error);
  }
}

function describeArgsError(command: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `Invalid arguments for ${command}`;
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `Invalid arguments for ${command}: ${where}${issue.message}`;
}

/**
 * A pipelined request waiting for its reply: its place in the link's reply order, the
 * listener its sender-order step tells, and what the reply then needs, in one object. This
 * is most of what a message keeps alive until its commit, where closures over the
 * dispatcher's locals kept a context and a function apiece.
 */
class PipelinedRequest implements ReplyTurn, StepListener {
  send: (() => void) | null = null;
  private reply: Reply | null = null;
  private afterReply: Array<() => void> | null = null;
  private readonly started = performance.now();

  constructor(
    private readonly dispatcher: RequestDispatcher,
    private readonly link: Link,
    private readonly re: number,
    private readonly cmd: string,
    private readonly finish: () => void,
  ) {
    link.joinReplyOrder(this);
  }

  /** What the handler asks to run once the reply has gone (`LoginContext.after`). */
  readonly after = (action: () => void): void => {
    (this.afterReply ??= []).push(action);
  };

  stepRun(failed: boolean, outcome: unknown): void {
    this.answer(this.dispatcher.stepReply(this.link, this.request(), this.after, failed, outcome));
  }

  /** The reply is ready: it goes once every earlier one has. */
  answer(reply: Reply): void {
    this.reply = reply;
    this.link.replyReady(this, this.sendReply);
  }

  /** The handler failed outright (the link is being closed): the turn goes, unanswered. */
  abandon(): void {
    this.link.pipelinedInFlight--;
    this.link.replyReady(this, this.finishOnly);
  }

  /** Called as a method of this turn by `Link.replyReady`. */
  private sendReply(this: PipelinedRequest): void {
    const { link, dispatcher } = this;
    try {
      dispatcher.core.telemetry.commandFinished(
        this.cmd,
        (performance.now() - this.started) / 1000,
      );
      link.pipelinedInFlight--;
      if (!link.isClosed) link.outlet.send(this.reply!);
      if (this.afterReply) for (const action of this.afterReply) action();
    } catch (error) {
      dispatcher.failed(link, this.request(), error);
    }
    this.reply = null;
    this.finish();
  }

  private finishOnly(this: PipelinedRequest): void {
    this.finish();
  }

  /** The request as the error paths name it (its arguments are not kept). */
  private request(): Request {
    return { id: this.re, cmd: this.cmd, args: undefined };
  }
}
