/**
 * Keeping the keyboard focus somewhere useful. A control that had the focus can vanish
 * under it: the login form once logged in, a window's close button, a member's actions
 * after a kick, a file offer once accepted. Browsers then drop the focus to the page's
 * body, and the next Tab starts again from the top. The rescue watches the page and, when
 * the focused element has left it, gives the focus to the view's main field instead (the
 * message box, or the nickname on the login form).
 */

/** Focuses `element` unless something else already holds the focus. */
export function focusIfIdle(element: HTMLElement | null | undefined): void {
  const active = document.activeElement;
  if (element && (!active || active === document.body)) element.focus();
}

export function installFocusRescue(root: HTMLElement, fallback: () => HTMLElement | null): void {
  let last: Element | undefined;
  document.addEventListener('focusin', (event) => {
    last = event.target instanceof Element ? event.target : undefined;
  });
  // Not `focusout`: not every browser sends it when the focused element is removed.
  new MutationObserver(() => {
    if (!last || last.isConnected) return;
    last = undefined;
    const active = document.activeElement;
    if (active && active !== document.body) return;
    fallback()?.focus();
  }).observe(root, { childList: true, subtree: true });
}
