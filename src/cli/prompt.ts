import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Asks for a secret on the terminal without echoing what is typed. */
export function promptSecret(
  question: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stdout,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    // readline echoes through its output: a sink that drops writes while muted hides typing.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (!muted) output.write(chunk);
        callback();
      },
    });
    const lines = createInterface({ input, output: sink, terminal: true });
    lines.question(question, (answer) => {
      lines.close();
      output.write('\n');
      resolve(answer);
    });
    muted = true;
    lines.on('SIGINT', () => {
      lines.close();
      output.write('\n');
      reject(new Error('Cancelled'));
    });
  });
}
