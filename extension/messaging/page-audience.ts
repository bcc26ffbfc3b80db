/** What `runtime.sendMessage` rejects with when no extension page has a listener. */
const NOBODY = "Receiving end does not exist";

/** The most notices one message carries: a frame of a backlog tells of up to 500 messages at once. */
export const NOTICES_PER_MESSAGE = 200;

/**
 * The notices the background has for its pages (side panel, popup): sent only while a page may
 * listen, and those of one turn together in one message. With no page open a notice is a
 * broadcast that can only fail, and a catch-up tells of every message; with one open, each
 * broadcast is a trip through the browser and a dispatch in every page.
 *
 * Nothing is held open to know whether a page is: a port would have to be connected again
 * whenever the worker stops, and that wakes the worker. Instead a message that found no
 * listener means no page is open, and any request from a page means one is. A page reads
 * what it shows with its requests after it starts listening, so whatever it was not told
 * before its first request reached the background, it reads.
 */
export class PageAudience<N> {
  readonly #send: (notices: N[]) => Promise<unknown>;
  readonly #failed: (error: unknown) => void;
  readonly #later: (run: () => void) => void;
  // A worker that starts under an open page learns it from its first message, which arrives.
  #listening = true;
  // Counts pages' requests: a failed send only says "nobody" about the time before it.
  #spoke = 0;
  #queued: N[] = [];

  /**
   * `send`: one message to every page; `failed`: what to do with any failure but "nobody listens".
   * `later` runs the sending once the code that told the notices is done: by default on a microtask,
   * so what the background tells before it answers a request or a file transfer still goes before
   * the answer, as it did one by one (a backlog frame's events are told in one synchronous loop).
   */
  constructor(send: (notices: N[]) => Promise<unknown>, failed: (error: unknown) => void, later: (run: () => void) => void = (run) => queueMicrotask(run)) {
    this.#send = send;
    this.#failed = failed;
    this.#later = later;
  }

  /** One of the extension's own pages asked something: it listens from now on. */
  pageSpoke(): void {
    this.#listening = true;
    this.#spoke++;
  }

  get listening(): boolean {
    return this.#listening;
  }

  /** Queues a notice for the pages, if any may listen; the turn's notices go together, in order. */
  tell(notice: N): void {
    if (!this.#listening) return;
    if (this.#queued.push(notice) === 1) this.#later(() => this.#flush());
  }

  #flush(): void {
    const queued = this.#queued;
    this.#queued = [];
    // A message since found nobody, and no page asked anything since: one opening now reads these.
    if (!this.#listening) return;
    const spoke = this.#spoke;
    for (let at = 0; at < queued.length; at += NOTICES_PER_MESSAGE) {
      this.#send(queued.slice(at, at + NOTICES_PER_MESSAGE)).catch((error: unknown) => {
        if (!String((error as Error | null)?.message).includes(NOBODY)) return this.#failed(error);
        if (this.#spoke === spoke) this.#listening = false;
      });
    }
  }
}
