import type { ArgInfo } from '../../protocol/catalog.js';
import type { ChatState, PromptState } from './chat-state.js';

/**
 * The one open question on screen (nickname, password, yes/no, menu argument). Asking
 * replaces any earlier question (which is answered "cancelled"), so nothing ever waits
 * on a prompt nobody can see.
 */
export class Prompter {
  private pending: ((value: string | boolean | undefined) => void) | undefined;
  private closed = false;

  constructor(
    private readonly state: ChatState,
    private readonly notice: (text: string, level: 'info' | 'error') => void,
  ) {}

  ask(prompt: PromptState): Promise<string | undefined> {
    return this.askAny(prompt).then((value) => (typeof value === 'string' ? value : undefined));
  }

  askAny(prompt: PromptState): Promise<string | boolean | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    this.cancel();
    return new Promise((resolve) => {
      this.pending = resolve;
      this.state.prompt = prompt;
      this.state.changed();
    });
  }

  answer(value: string | boolean | undefined): void {
    const resolve = this.pending;
    this.pending = undefined;
    this.state.prompt = undefined;
    this.state.changed();
    resolve?.(value);
  }

  cancel(): void {
    if (this.pending) this.answer(undefined);
  }

  /** No more questions: the client is leaving. */
  close(): void {
    this.closed = true;
    this.cancel();
  }

  /** Secret and confirmation arguments: masked, twice when `repeat`; yes/no. */
  async askArg(arg: ArgInfo): Promise<string | boolean | undefined> {
    if (arg.kind === 'confirm') {
      const typed = await this.ask({
        label: 'Type yes to confirm',
        question: arg.prompt ?? 'Are you sure?',
        mode: 'confirm',
      });
      return typed?.trim().toLowerCase() === 'yes' ? true : undefined;
    }
    const label = arg.prompt ?? 'Password';
    const first = await this.ask({ label, mode: 'secret' });
    if (first === undefined || first === '') return undefined;
    if (arg.repeat) {
      const second = await this.ask({ label: `${label} again`, mode: 'secret' });
      if (second !== first) {
        this.notice('The two entries differ; nothing was changed', 'error');
        return undefined;
      }
    }
    return first;
  }
}
