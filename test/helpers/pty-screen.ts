import xterm from '@xterm/headless';
import { spawn, type IPty } from 'node-pty';

/**
 * A program running in a real pseudo-terminal, read through a headless terminal emulator,
 * so tests see the screen a person would see (after every escape sequence is applied).
 */
export class PtyScreen {
  readonly terminal: xterm.Terminal;
  readonly pty: IPty;
  /** Everything the program wrote, raw. */
  output = '';
  readonly exited: Promise<{ exitCode: number; signal?: number }>;

  constructor(
    command: string,
    args: readonly string[],
    options: { cols: number; rows: number; env: NodeJS.ProcessEnv; cwd?: string },
  ) {
    this.terminal = new xterm.Terminal({
      cols: options.cols,
      rows: options.rows,
      allowProposedApi: true,
    });
    this.pty = spawn(command, [...args], {
      name: 'xterm-256color',
      cols: options.cols,
      rows: options.rows,
      cwd: options.cwd ?? process.cwd(),
      env: options.env as Record<string, string>,
    });
    this.pty.onData((data) => {
      this.output += data;
      this.terminal.write(data);
    });
    this.exited = new Promise((resolve) => this.pty.onExit(resolve));
  }

  /** The screen as text, one string per row, trailing spaces trimmed. */
  rows(): string[] {
    const buffer = this.terminal.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < this.terminal.rows; y += 1)
      rows.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    return rows;
  }

  text(): string {
    return this.rows().join('\n');
  }

  write(data: string): void {
    this.pty.write(data);
  }

  /** Types text one key at a time, as a person would. */
  async type(text: string): Promise<void> {
    for (const char of text) {
      this.pty.write(char);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
    this.terminal.resize(cols, rows);
  }

  /** Polls the screen until `check` holds; fails with the screen shown after `timeoutMs`. */
  async waitFor(
    what: string,
    check: (screen: string, rows: string[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Let the emulator finish parsing what arrived.
      await new Promise<void>((resolve) => this.terminal.write('', resolve));
      if (check(this.text(), this.rows())) return;
      if (Date.now() > deadline)
        throw new Error(`Timed out waiting for ${what}. Screen:\n${this.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
  }

  kill(): void {
    try {
      this.pty.kill();
    } catch {
      // Already gone.
    }
  }
}
