import type { ComponentChildren } from 'preact';

/** Only these become links: never `javascript:`, `data:` or anything else. */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/giu;
/** Punctuation that usually ends a sentence rather than a URL. */
const TRAILING = /[.,;:!?)\]}]+$/u;

/**
 * Message text as text nodes, with http(s) URLs as links that open elsewhere and tell
 * the target nothing. Nothing is ever parsed as HTML.
 */
export function linkify(text: string): ComponentChildren[] {
  const parts: ComponentChildren[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    let url = match[0];
    const trailing = TRAILING.exec(url)?.[0] ?? '';
    url = url.slice(0, url.length - trailing.length);
    if (!isHttpUrl(url)) continue;
    if (start > last) parts.push(text.slice(last, start));
    parts.push(
      <a href={url} target="_blank" rel="noopener noreferrer">
        {url}
      </a>,
    );
    last = start + url.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
