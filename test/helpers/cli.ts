import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (`npm test` builds first); tests run it as users do. */
export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface CliRun {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout contains `text` (bounded wait). */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exit(): Promise<number | null>;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    // Servers started here leave the web port (7780) alone unless a test asks for it:
    // tests run side by side, and a developer may have a server of their own running.
    env: { ...process.env, CONFAB_WEB_PORT: '0', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    // Generous: a `confab serve` starting beside a loaded machine's other tests once took
    // over 10 s to print its address; a wait that is met returns at once.
    async waitForOutput(text, timeoutMs = 25_000) {
      const deadline = Date.now() + timeoutMs;
      const found = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      while (!found()) {
        if (Date.now() > deadline)
          throw new Error(`no ${String(text)} in output within ${timeoutMs} ms:\n${out}\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    exit: () => exited,
  };
}
