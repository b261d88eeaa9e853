import { Fragment } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { ChatLine, ChatWindow } from '../../src/client/tui/chat-state.js';
import { linkify } from './linkify.js';
import type { WebSession } from './session.js';

function time(ts: number, replayed: boolean): string {
  const date = new Date(ts);
  return replayed ? date.toLocaleString() : date.toLocaleTimeString();
}

/**
 * The conversation: newest at the bottom, kept there while you read the newest; scrolling
 * to the top fetches older messages, keeping your place.
 */
export function MessageList({ session, window }: { session: WebSession; window: ChatWindow }) {
  const list = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const heightBefore = useRef<number | undefined>(undefined);
  const loading = useRef(false);

  useLayoutEffect(() => {
    const element = list.current;
    if (!element) return;
    if (heightBefore.current !== undefined) {
      element.scrollTop += element.scrollHeight - heightBefore.current;
      heightBefore.current = undefined;
    } else if (atBottom.current) element.scrollTop = element.scrollHeight;
  });
  useLayoutEffect(() => {
    atBottom.current = true;
  }, [window.id]);

  const onScroll = () => {
    const element = list.current;
    if (!element) return;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
    if (element.scrollTop < 40 && !loading.current && window.kind === 'room') {
      loading.current = true;
      heightBefore.current = element.scrollHeight;
      void session.loadOlder(window.id).finally(() => (loading.current = false));
    }
  };

  return (
    <div
      ref={list}
      class="messages"
      role="log"
      aria-live="polite"
      aria-label={`Conversation in ${window.name}`}
      tabIndex={0}
      onScroll={onScroll}
    >
      <ol>
        {window.lines.map((line, index) => {
          const divider = dividerBefore(line, window.lines[index - 1]);
          return divider ? (
            <Fragment key={line.key}>
              <li class="divider">{divider}</li>
              <Line line={line} />
            </Fragment>
          ) : (
            <Line key={line.key} line={line} />
          );
        })}
      </ol>
    </div>
  );
}

/**
 * Replayed messages are marked once, by a line before the first of a run: what you missed
 * while away (or offline), or the room's earlier messages shown on joining and scrolling back.
 */
function dividerBefore(line: ChatLine, previous: ChatLine | undefined): string | undefined {
  if (line.kind !== 'chat' || !line.replay) return undefined;
  if (previous?.kind === 'chat' && previous.replay === line.replay) return undefined;
  return line.replay === 'missed' ? 'Missed while you were away' : 'Earlier messages';
}

function Line({ line }: { line: ChatLine }) {
  if (line.kind === 'notice')
    return (
      <li class={`notice ${line.level}`}>
        <time>{new Date(line.ts).toLocaleTimeString()}</time> <bdi>{line.text}</bdi>
      </li>
    );
  const classes = ['chat'];
  if (line.own) classes.push('own');
  if (line.mention) classes.push('mention');
  if (line.replay) classes.push('replayed');
  return (
    <li class={classes.join(' ')}>
      <time>{time(line.ts, line.replay !== undefined)}</time> <bdi class="from">{line.from}</bdi>
      {line.to && line.to.length > 1 && <span class="to"> → {line.to.join(', ')}</span>}:{' '}
      <bdi class="text">{linkify(line.text)}</bdi>
      {line.own && line.delivery !== 'received' && (
        <span class={`delivery ${line.delivery}`}>
          {' '}
          {line.delivery === 'sent' ? '✓' : line.delivery === 'failed' ? 'not sent' : '…'}
        </span>
      )}
    </li>
  );
}
