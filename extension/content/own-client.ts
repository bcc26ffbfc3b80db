/** The marker EMSG's own web client (the PWA) carries in its <head>. */
export const CLIENT_META = 'meta[name="emsg-client"]';

/**
 * Whether this page is an EMSG client itself. It already offers everything an inline button
 * would, and its renderer owns its DOM, so the content script leaves it alone. A page that
 * fakes the marker only turns the buttons off for itself.
 */
export function isEmsgClient(document: Document): boolean {
  return document.querySelector(CLIENT_META) !== null;
}
