/** A small typed event emitter: the client core's only way to tell a view that something changed. */
export class Emitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      // A failing view must not stop the core from applying the rest of a batch.
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (error) {
        console.error(`emsg: a "${String(event)}" listener failed`, error);
      }
    }
  }
}
