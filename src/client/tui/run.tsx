import { render } from 'ink';
import { App } from './App.js';
import { TuiController, type ControllerOptions } from './controller.js';

// Alternate screen: the chat gets the whole terminal and the shell's screen comes back
// untouched on exit. Cursor shown again on exit whatever happened.
// Mouse: button events in SGR encoding, so the wheel scrolls the pane. Most terminals
// still select text with Shift held; `/mouse off` gives plain selection back.
const ENTER_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_SCREEN = '\x1b[?1000l\x1b[?1006l\x1b[?25h\x1b[?1049l';
const MOUSE_ON = '\x1b[?1000h\x1b[?1006h';
const MOUSE_OFF = '\x1b[?1000l\x1b[?1006l';

/**
 * `confab connect` on a terminal: the full-screen client. Resolves with the exit code once
 * the screen is gone and the terminal is as it was.
 */
export async function runFullScreen(options: ControllerOptions): Promise<number> {
  const stdout = process.stdout;
  const stdin = process.stdin;
  const controller = new TuiController(options);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
    } catch {
      // The terminal may already be gone (hang-up).
    }
    stdout.write(LEAVE_SCREEN);
  };
  stdout.write(ENTER_SCREEN);
  let mouse = false;
  const followMouse = () => {
    if (restored || controller.state.mouse === mouse) return;
    mouse = controller.state.mouse;
    stdout.write(mouse ? MOUSE_ON : MOUSE_OFF);
  };
  followMouse();
  const unsubscribe = controller.state.subscribe(followMouse);
  const instance = render(<App state={controller.state} actions={controller} />, {
    exitOnCtrlC: false,
    patchConsole: true,
  });

  // Whatever ends the process, the terminal is given back in a usable state.
  const crash = (error: unknown) => {
    try {
      instance.unmount();
    } catch {
      // Already unmounted.
    }
    restore();
    process.stderr.write(`confab: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(70);
  };
  const leave = () => controller.exit();
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  process.on('exit', restore);
  process.on('SIGINT', leave);
  process.on('SIGTERM', leave);
  process.on('SIGHUP', leave);

  void controller.start();
  // If the view itself fails, Ink unmounts: leave the session too rather than hang.
  const viewEnded = instance.waitUntilExit().then(
    () => undefined,
    (error: unknown) => error,
  );
  const outcome = await Promise.race([
    controller.finished,
    viewEnded.then((error) => {
      controller.exit();
      return {
        code: 70,
        message: `confab: the screen failed: ${(error as Error | undefined)?.message ?? 'closed'}`,
      };
    }),
  ]);
  unsubscribe();
  instance.unmount();
  restore();
  process.off('SIGINT', leave);
  process.off('SIGTERM', leave);
  process.off('SIGHUP', leave);
  if (outcome.message) process.stderr.write(outcome.message + '\n');
  return outcome.code;
}
