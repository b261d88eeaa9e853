import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogFile } from '../src/logging/log-file.js';

describe('LogFile', () => {
  it('appends lines in order', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'confab-logfile-'));
    try {
      const file = new LogFile(path.join(dir, 'a.log'));
      for (let i = 0; i < 1000; i++) file.write(`line ${i}\n`);
      await file.close();
      const lines = readFileSync(path.join(dir, 'a.log'), 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(1000);
      expect(lines[999]).toBe('line 999');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // /dev/full fails every write with ENOSPC: a disk that stays full.
  it.skipIf(!existsSync('/dev/full'))(
    'on a full disk: never throws, holds a bounded amount, drops and counts the rest, warns at most once a minute, and closes without waiting for space',
    async () => {
      let now = 0;
      const warnings: string[] = [];
      const file = new LogFile('/dev/full', {
        maxPending: 1000,
        warn: (line) => warnings.push(line),
        now: () => now,
        retryMs: 5,
      });
      file.write('x'.repeat(100) + '\n');
      await file.drain();
      expect(file.failing).toBe(true);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/cannot write \/dev\/full \(ENOSPC\)/);
      for (let i = 0; i < 100; i++) expect(() => file.write('y'.repeat(99) + '\n')).not.toThrow();
      // 101 bytes held, then 100-byte lines up to 1000: 8 more fit, 92 are dropped.
      expect(file.dropped).toBe(92);
      await new Promise((resolve) => setTimeout(resolve, 30)); // retries fail meanwhile
      file.write('z\n');
      expect(warnings).toHaveLength(1);
      now += 60_000;
      // The next retry warns again (polled: on a loaded machine a retry's failed write can
      // take longer than any fixed pause).
      for (let i = 0; i < 500 && warnings.length < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(warnings).toHaveLength(2);
      expect(warnings[1]).toMatch(/92 lines dropped so far/);
      await file.close();
    },
  );
});
