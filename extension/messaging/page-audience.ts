/** What `runtime.sendMessage` rejects with when no extension page has a listener. */
const NOBODY = "Receiving end does not exist";

/**
 * Whether any of the extension's own pages (side panel, popup) may be listening to the
 * background's notices. With none open a notice is a broadcast that can only fail, and a
 * catch-up sends one per message. Nothing is held open to know it: a port would have to be
 * connected again whenever the worker stops, and that wakes the worker. Instead a notice
 * that found no listener means no page is open, and any request from a page means one is.
 * A page reads what it shows with its requests after it starts listening, so whatever
 * it was not told before its first request reached the background, it reads.
 */
export class PageAudience {
  // A worker that starts under an open page learns it from its first notice, which arrives.
  #listening = true;
  // Counts pages' requests: a failed send only says "nobody" about the time before it.
  #spoke = 0;

  /** One of the extension's own pages asked something: it listens from now on. */
  pageSpoke(): void {
    this.#listening = true;
    this.#spoke++;
  }

  get listening(): boolean {
    return this.#listening;
  }

  /** Sends a notice through `send` unless no page listens; any other failure goes to `failed`. */
  tell(send: () => Promise<unknown>, failed: (error: unknown) => void): void {
    if (!this.#listening) return;
    const spoke = this.#spoke;
    send().catch((error: unknown) => {
      if (!String((error as Error | null)?.message).includes(NOBODY)) return failed(error);
      if (this.#spoke === spoke) this.#listening = false;
    });
  }
}
