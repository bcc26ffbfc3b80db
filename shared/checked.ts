/**
 * Strings that already passed one check, so the same check on the same string is a lookup: the
 * wire repeats a few addresses, domains and conversation refs in every item of a batch, and
 * normalizing one costs microseconds (Unicode NFKC, several regular expressions). Bounded: when
 * full it starts over, which costs only the checks again.
 */
export class Checked {
  readonly #passed = new Set<string>();

  constructor(private readonly capacity = 4096) {}

  has(text: string): boolean {
    return this.#passed.has(text);
  }

  add(text: string): void {
    if (this.#passed.size >= this.capacity) this.#passed.clear();
    this.#passed.add(text);
  }
}
