import type { ArgInfo, CommandInfo } from '../protocol/catalog.js';

/**
 * The `/menu` rules every client shares (seed 002): which commands are offered, how each
 * argument is asked for, and how a typed answer becomes the argument's value. The clients
 * differ only in how they show the list (numbered lines on a terminal, a dialog on a page).
 */

/** Commands offered in the menu: the catalogue, less protocol steps and, for non-admins, admin commands. */
export function menuCommands(
  commands: readonly CommandInfo[],
  isAdmin: boolean,
): readonly CommandInfo[] {
  return commands.filter((command) => !command.hidden && (!command.admin || isAdmin));
}

/** Arguments the menu asks for one by one; secrets and confirmations are asked when it runs. */
export function menuQuestions(command: CommandInfo): {
  readonly asked: readonly ArgInfo[];
  readonly prompts: readonly ArgInfo[];
} {
  const prompts = command.args.filter((arg) => arg.kind === 'secret' || arg.kind === 'confirm');
  const asked = command.args.filter((arg) => !prompts.includes(arg));
  return { asked, prompts };
}

/** The question for one argument, with its allowed values and whether it may be left empty. */
export function menuArgLabel(arg: ArgInfo): string {
  const hint = arg.choices
    ? ` (${arg.choices.join('/')})`
    : arg.kind === 'names'
      ? ' (comma-separated)'
      : '';
  return `${arg.name}${hint}${arg.optional ? ' [optional]' : ''}`;
}

export type MenuAnswer =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'skip' }
  | { readonly kind: 'error'; readonly message: string };

/** A typed answer as the argument's value: a number, a list of names, or the text as typed. */
export function menuArgValue(arg: ArgInfo, answer: string): MenuAnswer {
  const text = answer.trim();
  if (text === '')
    return arg.optional
      ? { kind: 'skip' }
      : { kind: 'error', message: `${arg.name} is needed: cancelled` };
  if (arg.kind === 'integer')
    return /^-?\d+$/.test(text)
      ? { kind: 'value', value: Number(text) }
      : { kind: 'error', message: `${arg.name} must be a whole number` };
  if (arg.kind === 'names')
    return {
      kind: 'value',
      value: text
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    };
  return { kind: 'value', value: arg.kind === 'text' ? answer : text };
}
