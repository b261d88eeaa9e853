import { describe, expect, it } from 'vitest';
import { recipientKey } from '../src/core/commands/private-recipients.js';
import { checkName } from '../src/core/names.js';

/** What the full name check says the key is (undefined for a name no one can have). */
function checkedKey(name: string): string | undefined {
  const checked = checkName(name);
  return checked.ok ? checked.key : undefined;
}

describe('A private message recipient’s key', () => {
  it('is the name check’s key for plain ASCII names, found without normalising', () => {
    const alphabet = 'aZz09_-A.Q !é';
    // Every name of up to three characters over a mix of plain and other characters.
    const names: string[] = [''];
    for (let length = 1; length <= 3; length++)
      for (const prefix of names.filter((name) => name.length === length - 1))
        for (const character of alphabet) names.push(prefix + character);
    names.push('x'.repeat(32), 'X'.repeat(33), 'Alice', 'alice', 'BOB_the-2nd', 'ａｌｉｃｅ', 'Ⅻ');
    let plain = 0;
    for (const name of names) {
      expect(recipientKey(name), JSON.stringify(name)).toBe(checkedKey(name));
      if (/^[A-Za-z0-9_-]+$/.test(name) && name.length <= 32) plain++;
    }
    // The fast path was taken for many of them, and the slow one for the rest.
    expect(plain).toBeGreaterThan(100);
    expect(names.length - plain).toBeGreaterThan(100);
  });
});
