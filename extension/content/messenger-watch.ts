import type { MessengerAdapter } from "../adapters/adapter.js";
import type { EmsgPageApi } from "../messaging/page-api.js";

/**
 * Mounts the first adapter that matches. Embedded messengers (Converse.js) appear after the
 * page loaded, so matching is retried on DOM changes, at most once a second, for a while.
 */
export function watchForMessenger(document: Document, location: Location, adapters: readonly MessengerAdapter[], api: EmsgPageApi, lookForMs = 60_000): () => void {
  const view = document.defaultView!;
  const started = Date.now();
  let unmount: (() => void) | undefined;
  let waiting = false;
  const tryMount = (): boolean => {
    const adapter = adapters.find((a) => a.matches(location, document));
    if (adapter) unmount = adapter.mount(document, api);
    return adapter !== undefined;
  };
  if (tryMount()) return () => unmount?.();
  const observer = new view.MutationObserver(() => {
    if (waiting) return;
    waiting = true;
    view.setTimeout(() => {
      waiting = false;
      if (tryMount() || Date.now() - started > lookForMs) observer.disconnect();
    }, 1000);
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
  return () => {
    observer.disconnect();
    unmount?.();
  };
}
