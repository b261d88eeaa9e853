import { Box, Text, useInput, useStdout, type Key } from 'ink';
import { useEffect, useReducer, useRef, useState, useSyncExternalStore } from 'react';
import {
  LOBBY_WINDOW,
  windowLabel,
  type ChatState,
  type ChatWindow,
  type PromptState,
} from './chat-state.js';
import { InputLine } from './InputLine.js';
import * as editor from './line-editor.js';
import { MessagePane } from './MessagePane.js';
import { ProgressBar } from './ProgressBar.js';
import { visibleRows, wrapLine } from './render-lines.js';
import { MEMBER_PANE_WIDTH, MemberPane, TopicBar } from './SidePanels.js';
import { StatusBar } from './StatusBar.js';
import { WindowList } from './WindowList.js';

/** What the screen asks of whoever drives the session. */
export interface AppActions {
  /** A line typed in the input line (a message or a command). */
  submit(line: string): void;
  /** The answer to the open prompt; undefined when cancelled (Esc). */
  answer(value: string | boolean | undefined): void;
  /** Ctrl+C: leave cleanly, now. */
  exit(): void;
  /** Alt+N: show or hide the member list. */
  toggleMembers(): void;
  /** The member list is shown for a room whose members are not known yet. */
  loadMembers(room: string): void;
  completion(): editor.CompletionSource;
}

export interface AppProps {
  readonly state: ChatState;
  readonly actions: AppActions;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  readonly size?: { columns: number; rows: number };
}

function useTerminalSize(fixed: AppProps['size']): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  });
  return fixed ?? size;
}

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

const CHROME_ROWS = 3;
// eslint-disable-next-line no-control-regex
const MOUSE_REPORT = /\x1b?\[<(\d+);\d+;\d+[Mm]/g;
// eslint-disable-next-line no-control-regex
const MOUSE_REPORTS = /^(?:\x1b?\[<\d+;\d+;\d+[Mm])+$/;
const WHEEL_UP = 64;
const WHEEL_DOWN = 65; // window list, status bar, input line

/** The whole screen: messages, transfers, window list, status bar, input line. */
export function App({ state, actions, size }: AppProps) {
  useSyncExternalStore(state.subscribe, state.getVersion);
  const { columns, rows } = useTerminalSize(size);
  // Editor states live in refs so several keys arriving in one chunk build on each other.
  const [, rerender] = useReducer((count: number) => count + 1, 0);
  const mainRef = useRef(editor.emptyEditor());
  const answerRef = useRef(editor.emptyEditor());
  const promptRef = useRef<PromptState | undefined>(undefined);
  if (promptRef.current !== state.prompt) {
    // A new prompt starts with its own line (maybe pre-filled); the draft is kept.
    promptRef.current = state.prompt;
    answerRef.current = editor.insert(editor.emptyEditor(), state.prompt?.initial ?? '');
  }
  const setMain = (next: editor.EditorState) => {
    mainRef.current = next;
    rerender();
  };
  const setAnswer = (next: editor.EditorState) => {
    answerRef.current = next;
    rerender();
  };

  const window = state.currentWindow;
  // A prompt's question is shown whole, wrapped, above the input line.
  const question = state.prompt?.question
    ? wrapLine({ lead: '', body: state.prompt.question }, columns)
    : [];
  // Rooms other than the lobby show their topic in a bar above the messages.
  const topicBar = window.kind === 'room' && window.id !== LOBBY_WINDOW && rows >= 8;
  const chrome = CHROME_ROWS + (topicBar ? 1 : 0);
  const paneHeight = Math.max(
    1,
    rows - chrome - state.transfers.length - Math.min(question.length, rows - chrome - 1),
  );
  // The member list takes the right edge when shown and the screen is wide enough.
  const memberPane = state.showMembers && columns >= 50;
  const paneWidth = memberPane ? columns - MEMBER_PANE_WIDTH : columns;
  const roomToList =
    memberPane && window.kind === 'room' && window.id !== LOBBY_WINDOW && !window.members
      ? window.name
      : undefined;
  useEffect(() => {
    if (roomToList !== undefined) actions.loadMembers(roomToList);
  }, [roomToList, actions]);
  const page = Math.max(1, paneHeight - 1);

  useInput((input, key) => {
    // Pasted (or fast-typed) text can hold line breaks: each one is an Enter.
    if (input.length > 1 && /[\r\n]/.test(input) && !key.ctrl && !key.meta) {
      const parts = input.split(/\r\n|\r|\n/);
      parts.forEach((part, index) => {
        if (part !== '') handleKey(part, NO_KEY);
        if (index < parts.length - 1) handleKey('', { ...NO_KEY, return: true });
      });
      return;
    }
    handleKey(input, key);
  });

  const scroll = (rows: number) => {
    const reach = state.scroll + Math.max(rows, 0);
    const { maxScroll } = visibleRows(window.lines, paneWidth, paneHeight, reach);
    state.scrollBy(rows, maxScroll);
    state.changed();
  };

  function handleKey(input: string, key: Key) {
    if (key.ctrl && input === 'c') {
      actions.exit();
      return;
    }
    // A mouse report (SGR encoding, as Ink hands it over without the escape): the wheel
    // scrolls three rows; clicks are ignored.
    if (MOUSE_REPORTS.test(input)) {
      for (const report of input.matchAll(MOUSE_REPORT)) {
        const button = Number(report[1]);
        if (button === WHEEL_UP) scroll(3);
        else if (button === WHEEL_DOWN) scroll(-3);
      }
      return;
    }
    const prompt = state.prompt;
    if (prompt !== promptRef.current) {
      promptRef.current = prompt;
      answerRef.current = editor.insert(editor.emptyEditor(), prompt?.initial ?? '');
    }
    const main = mainRef.current;
    const answer = answerRef.current;
    if (prompt) {
      if (key.escape) return actions.answer(undefined);
      if (key.return) return actions.answer(editor.textOf(answer));
      setAnswer(edit(answer, input, key));
      return;
    }
    if (key.pageUp || key.pageDown) return scroll(key.pageUp ? page : -page);
    if (key.meta && input === 'n') {
      actions.toggleMembers();
      return;
    }
    if (key.meta && /^[0-9]$/.test(input)) {
      state.switchToNumber(input === '0' ? 10 : Number(input));
      state.changed();
      return;
    }
    if (key.ctrl && (input === 'n' || input === 'p')) {
      state.switchBy(input === 'n' ? 1 : -1);
      state.changed();
      return;
    }
    if (key.return) {
      const { line, state: next } = editor.submit(main);
      setMain(next);
      if (line.trim() !== '') actions.submit(line);
      return;
    }
    if (key.upArrow) return setMain(editor.historyUp(main));
    if (key.downArrow) return setMain(editor.historyDown(main));
    if (key.tab) return setMain(editor.complete(main, actions.completion()));
    setMain(edit(main, input, key));
  }

  const prompt = state.prompt;
  const others = state.windows
    .map((item, index) => ({ item, number: index + 1 }))
    .filter(({ item }) => item.id !== window.id && item.unread > 0)
    .map(({ item, number }) => ({
      number,
      name: windowLabel(item),
      unread: item.unread,
      mentioned: item.mentioned,
    }));
  return (
    <Box flexDirection="column" width={columns} height={rows}>
      {topicBar && <TopicBar window={window} width={columns} />}
      <Box flexDirection="row" width={columns} height={paneHeight}>
        <MessagePane
          lines={window.lines}
          width={paneWidth}
          height={paneHeight}
          scroll={state.scroll}
        />
        {memberPane && <MemberPane names={membersOf(state, window)} height={paneHeight} />}
      </Box>
      {state.transfers.map((progress) => (
        <ProgressBar key={progress.id} progress={progress} width={columns} />
      ))}
      <WindowList
        width={columns}
        windows={state.windows.map((item, index) => ({
          number: index + 1,
          name: windowLabel(item),
          unread: item.unread,
          mentioned: item.mentioned,
          current: item.id === window.id,
        }))}
      />
      <StatusBar
        server={state.server}
        nick={state.nick}
        role={state.role}
        window={windowLabel(window)}
        connection={state.connection}
        activity={others}
        width={columns}
      />
      {question.map((row, index) => (
        <Text key={`question-${index}`} bold color="yellow" wrap="truncate-end">
          {row}
        </Text>
      ))}
      {prompt ? (
        <InputLine
          label={`${prompt.label}:`}
          chars={answerRef.current.chars}
          cursor={answerRef.current.cursor}
          width={columns}
          masked={prompt.mode === 'secret'}
        />
      ) : (
        <InputLine
          label={`[${windowLabel(window)}]${state.scroll > 0 ? ' (scrolled)' : ''}`}
          chars={mainRef.current.chars}
          cursor={mainRef.current.cursor}
          width={columns}
        />
      )}
    </Box>
  );
}

/** Who the member list shows for a window. */
function membersOf(state: ChatState, window: ChatWindow): readonly string[] | undefined {
  if (window.kind === 'private')
    return [...(state.nick ? [state.nick] : []), ...window.participants];
  if (window.id === LOBBY_WINDOW) return [...state.nicks];
  return window.members;
}

interface KeyInfo {
  readonly leftArrow: boolean;
  readonly rightArrow: boolean;
  readonly home: boolean;
  readonly end: boolean;
  readonly backspace: boolean;
  readonly delete: boolean;
  readonly ctrl: boolean;
  readonly meta: boolean;
  readonly escape: boolean;
  readonly tab: boolean;
  readonly upArrow: boolean;
  readonly downArrow: boolean;
}

/** Editing keys shared by the input line and prompts (readline/Emacs bindings). */
function edit(state: editor.EditorState, input: string, key: KeyInfo): editor.EditorState {
  // Ink reports the Backspace key (DEL, 0x7f) as `delete`; forward delete is Ctrl+D.
  if (key.backspace || key.delete) return editor.backspace(state);
  if (key.leftArrow) return key.ctrl || key.meta ? editor.wordLeft(state) : editor.left(state);
  if (key.rightArrow) return key.ctrl || key.meta ? editor.wordRight(state) : editor.right(state);
  if (key.home) return editor.home(state);
  if (key.end) return editor.end(state);
  if (key.ctrl) {
    switch (input) {
      case 'a':
        return editor.home(state);
      case 'e':
        return editor.end(state);
      case 'b':
        return editor.left(state);
      case 'f':
        return editor.right(state);
      case 'd':
        return editor.deleteForward(state);
      case 'u':
        return editor.deleteToStart(state);
      case 'k':
        return editor.deleteToEnd(state);
      case 'w':
        return editor.deleteWordBefore(state);
      default:
        return state;
    }
  }
  if (key.meta) {
    if (input === 'b') return editor.wordLeft(state);
    if (input === 'f') return editor.wordRight(state);
    return state;
  }
  if (key.escape || key.tab || key.upArrow || key.downArrow || input === '') return state;
  return editor.insert(state, input);
}
