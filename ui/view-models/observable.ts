/** The base of every stateful view model: views subscribe and re-render when it changes. */
export class Observable {
  readonly #listeners = new Set<() => void>();
  #version = 0;

  /** Counts changes, so a view can tell whether the model changed after it last read it. */
  get version(): number {
    return this.#version;
  }

  /**
   * `since` is the version the subscriber last read: a view draws before it subscribes, and a
   * change between the two (a key typed while a busy machine has not yet run the view's effect)
   * is told at once instead of being missed until the next change.
   */
  subscribe(listener: () => void, since = this.#version): () => void {
    this.#listeners.add(listener);
    if (since !== this.#version) listener();
    return () => this.#listeners.delete(listener);
  }

  protected changed(): void {
    this.#version++;
    for (const listener of this.#listeners) listener();
  }
}
