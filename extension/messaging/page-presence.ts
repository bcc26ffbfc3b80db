/** The name of the port an open extension page holds to the background while it shows anything. */
export const PAGE_PORT = "emsg-page";

/** The part of `runtime` a port needs, on either side. */
export interface PortLike {
  readonly name: string;
  onDisconnect: { addListener(listener: () => void): void };
}
export interface PageRuntime {
  connect(info: { name: string }): PortLike;
}
export interface BackgroundRuntime {
  onConnect: { addListener(listener: (port: PortLike) => void): void };
}

let announced = false;

/**
 * Tells the background this page is open, for as long as it is: its notices (every message
 * of a catch-up) are sent only while some page listens. The background's worker can stop
 * and start again under an open page, which drops the port: the page connects again, which
 * also wakes the worker, as a page that shows live messages wants.
 */
export function announcePage(runtime: PageRuntime): void {
  if (announced) return;
  announced = true;
  const hold = (): void => {
    const since = Date.now();
    try {
      // At once, so a restarted worker counts this page before it has anything to say; a second
      // later if the port did not last, so a worker that keeps refusing is not asked in a loop.
      runtime.connect({ name: PAGE_PORT }).onDisconnect.addListener(() => setTimeout(hold, Date.now() - since < 1000 ? 1000 : 0));
    } catch {
      // The extension was updated or removed under this page: nothing is left to tell it anything.
    }
  };
  hold();
}

/** How many extension pages hold a port to the background now. */
export function openPages(runtime: BackgroundRuntime): { readonly count: number } {
  const pages = { count: 0 };
  runtime.onConnect.addListener((port) => {
    if (port.name !== PAGE_PORT) return;
    pages.count++;
    port.onDisconnect.addListener(() => pages.count--);
  });
  return pages;
}
