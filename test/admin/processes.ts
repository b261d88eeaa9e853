import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (`npm test` builds first): these tests run it as users do. */
export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const PTY_RELAY = fileURLToPath(new URL('./pty-relay.py', import.meta.url));

export interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves when the output matches (bounded wait); returns the match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exit(): Promise<number | null>;
  write(text: string): void;
}

function track(child: ChildProcessWithoutNullStreams): Run {
  let out = '';
  const onData = (chunk: Buffer) => (out += chunk.toString('utf8'));
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(out);
        if (match) return match;
        if (Date.now() > deadline)
          throw new Error(`no ${String(pattern)} in output within ${timeoutMs} ms:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    exit: () => exited,
    write: (text) => child.stdin.write(text),
  };
}

/**
 * Servers started here leave the web port (7780) alone unless a test asks for it: tests
 * run side by side, and a developer may have a server of their own running.
 */
const NO_WEB = { CONFAB_WEB_PORT: '0' };

/** `confab ARGS` with plain pipes (no terminal). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  return track(
    spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...NO_WEB, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
}

/** `confab ARGS` on a pseudo-terminal, through Python's standard `pty` module. */
export function runCliOnPty(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  return track(
    spawn('python3', [PTY_RELAY, process.execPath, CLI, ...args], {
      env: { ...process.env, ...NO_WEB, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
}
