import type { EmsgClient } from "./core-types.js";
import { logFailure } from "./log-failure.js";
import { reconnectDelay } from "./reconnect.js";

const KEEPALIVE_MS = 60_000;

/**
 * Keeps a session (PROTOCOL §10) open for the conversation on screen while the page is visible,
 * and closes it when the conversation is left or the page is hidden. The core starts no timers:
 * this pings open sessions every minute and reopens one the hub closed, backing off.
 */
export class LiveSession {
  readonly #client: EmsgClient;
  #shown: string | null = null;
  #visible: boolean;
  /** The conversation whose session is open or opening. */
  #open: string | null = null;
  #attempts = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  readonly #keepAlive: ReturnType<typeof setInterval>;
  readonly #off: () => void;

  constructor(client: EmsgClient, visible: boolean) {
    this.#client = client;
    this.#visible = visible;
    this.#off = client.events.on("path", ({ conversation, path }) => {
      if (path === "relay" && conversation === this.#open) this.#lost();
    });
    this.#keepAlive = setInterval(() => client.tickSessions(), KEEPALIVE_MS);
  }

  /** The conversation now on screen, or null. */
  show(conversation: string | null): void {
    if (conversation === this.#shown) return;
    this.#shown = conversation;
    this.#attempts = 0;
    this.#sync();
  }

  setVisible(visible: boolean): void {
    if (visible === this.#visible) return;
    this.#visible = visible;
    this.#attempts = 0;
    this.#sync();
  }

  /** The connection is back: a session that could not open may open now. */
  retry(): void {
    this.#attempts = 0;
    this.#sync();
  }

  dispose(): void {
    this.#off();
    clearInterval(this.#keepAlive);
    clearTimeout(this.#retry);
    void this.#client.closeSession();
  }

  get #wanted(): string | null {
    return this.#visible ? this.#shown : null;
  }

  #sync(): void {
    clearTimeout(this.#retry);
    const wanted = this.#wanted;
    if (this.#open !== null && this.#open !== wanted) {
      void this.#client.closeSession(this.#open).catch(logFailure("a session stays open until it is idle"));
      this.#open = null;
    }
    if (wanted === null || this.#open === wanted) return;
    this.#open = wanted;
    void this.#client.openSession(wanted).then(
      (path) => {
        if (path === "relay" && this.#open === wanted) this.#lost();
      },
      () => {
        if (this.#open === wanted) this.#open = null;
      },
    );
  }

  /** The session could not open or was closed by the hub: try again later while still wanted. */
  #lost(): void {
    this.#open = null;
    if (this.#wanted === null) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#sync(), reconnectDelay(this.#attempts++));
  }
}
