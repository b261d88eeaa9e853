import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FILE_NAME_MAX_BYTES,
  numberedName,
  sanitizeFileName,
} from '../../src/core/files/file-names.js';

describe('sanitizeFileName', () => {
  it('turns hostile names into single, harmless path components', () => {
    expect(sanitizeFileName('../../etc/passwd')).toBe('_.._etc_passwd');
    expect(sanitizeFileName('a/b')).toBe('a_b');
    expect(sanitizeFileName('C:\\Windows\\win.ini')).toBe('C__Windows_win.ini');
    expect(sanitizeFileName('nul\u0000byte')).toBe('nul_byte');
    expect(sanitizeFileName('two\nlines.txt')).toBe('two_lines.txt');
    expect(sanitizeFileName('..')).toBe('file');
    expect(sanitizeFileName('')).toBe('file');
    expect(sanitizeFileName('aux')).toBe('_aux');
    expect(sanitizeFileName('com1.log')).toBe('_com1.log');
    expect(sanitizeFileName('trailing. . ')).toBe('trailing');
    expect(sanitizeFileName('evil\u202etxt.exe')).toBe('eviltxt.exe');
    expect(sanitizeFileName('photo.jpg')).toBe('photo.jpg');
  });

  it('shortens long names but keeps the extension', () => {
    const name = sanitizeFileName('é'.repeat(300) + '.tar.gz');
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(FILE_NAME_MAX_BYTES);
    expect(name.endsWith('.gz')).toBe(true);
  });

  it('never yields a separator, a control character, a dot name or too many bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (raw) => {
        const name = sanitizeFileName(raw);
        expect(name.length).toBeGreaterThan(0);
        // eslint-disable-next-line no-control-regex
        expect(name).not.toMatch(/[/\\:*?"<>|\u0000-\u001f\u007f]/);
        expect(name === '.' || name === '..').toBe(false);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(FILE_NAME_MAX_BYTES);
        expect(sanitizeFileName(name)).toBe(name);
      }),
      { numRuns: 500 },
    );
  });

  it('numbers alternatives before the extension', () => {
    expect(numberedName('a.txt', 0)).toBe('a.txt');
    expect(numberedName('a.txt', 2)).toBe('a (2).txt');
    expect(numberedName('README', 1)).toBe('README (1)');
  });
});
