import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/errors.js';
import { PARAMETER_KEYS } from '../src/config/parameters.js';
import { ALL_COMMANDS } from '../src/core/commands/index.js';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe('documentation stays true', () => {
  const protocol = read('docs/protocol.md');

  it('lists every error code in docs/protocol.md', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !protocol.includes(`| \`${code}\``));
    expect(missing).toEqual([]);
  });

  it('documents every command in docs/protocol.md', () => {
    const missing = ALL_COMMANDS.map((c) => c.info.name).filter(
      (name) => !protocol.includes(`\`${name}\``),
    );
    expect(missing).toEqual([]);
  });

  it('shows every parameter in the example config file', () => {
    const example = read('confab.example.yaml');
    const missing = PARAMETER_KEYS.filter((key) => !example.includes(key.split('.').at(-1)!));
    expect(missing).toEqual([]);
  });
});
