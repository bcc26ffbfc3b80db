import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type Limits } from "../../shared/discovery.js";
import { takeFree, withinLimits } from "../../worker/outbox-batch.js";

type Item = { conversation: string; json: string; n: number };

const items = fc
  .array(fc.record({ conversation: fc.constantFrom("a", "b", "c", "d", "e"), size: fc.integer({ min: 1, max: 60 }) }), { maxLength: 40 })
  .map((list) => list.map(({ conversation, size }, n): Item => ({ conversation, json: "x".repeat(size), n })));
const limits = fc.record({ maxBatchItems: fc.integer({ min: 1, max: 12 }), maxFederationBodyBytes: fc.integer({ min: 16, max: 400 }) });
const flying = fc.subarray(["a", "b", "c", "d", "e"]).map((list) => new Set(list));

const ofConversation = (list: Item[], c: string) => list.filter((i) => i.conversation === c).map((i) => i.n);

// The Outbox's next request of handed-over items (PROTOCOL §7: a peer gets each conversation's
// items in order, so one conversation is never in two requests at once).
describe("the Outbox's next request", () => {
  it("takes no item of a conversation in flight, keeps each conversation's order, and stays within the limits", () => {
    fc.assert(
      fc.property(items, flying, limits, (all, busy, peer) => {
        const { taken, left } = takeFree(all, busy, { ...DEFAULT_LIMITS, ...peer } as Limits);
        // Nothing lost or doubled, each half in its order.
        expect([...taken, ...left].map((i) => i.n).sort((x, y) => x - y)).toEqual(all.map((i) => i.n));
        for (const half of [taken, left]) expect(half.map((i) => i.n)).toEqual([...half.map((i) => i.n)].sort((x, y) => x - y));
        for (const c of ["a", "b", "c", "d", "e"]) {
          const mine = ofConversation(all, c);
          const sent = ofConversation(taken, c);
          if (busy.has(c)) expect(sent).toEqual([]);
          // What goes of a conversation is where it starts: nothing of it overtakes an item left.
          expect(sent).toEqual(mine.slice(0, sent.length));
        }
        expect(taken.length).toBeLessThanOrEqual(peer.maxBatchItems);
        if (taken.length > 1) expect(16 + taken.reduce((s, i) => s + i.json.length + 1, 0)).toBeLessThanOrEqual(peer.maxFederationBodyBytes);
      }),
    );
  });

  it("sends the other conversations' items behind one that waits, not only those before it", () => {
    const all: Item[] = [
      { conversation: "a", json: "x", n: 0 },
      { conversation: "b", json: "x", n: 1 },
      { conversation: "a", json: "x", n: 2 },
      { conversation: "c", json: "x", n: 3 },
    ];
    const { taken, left } = takeFree(all, new Set(["b"]), undefined);
    expect(taken.map((i) => i.n)).toEqual([0, 2, 3]);
    expect(left.map((i) => i.n)).toEqual([1]);
  });

  it("leaves the rest of a conversation cut by the limit behind, and the conversations after it go", () => {
    const all: Item[] = [
      { conversation: "a", json: "x".repeat(50), n: 0 },
      { conversation: "a", json: "x".repeat(50), n: 1 },
      { conversation: "b", json: "x", n: 2 },
    ];
    const peer = { ...DEFAULT_LIMITS, maxFederationBodyBytes: 100 };
    expect(takeFree(all, new Set(), peer).taken.map((i) => i.n)).toEqual([0, 2]);
    // At least one item goes, however large.
    expect(takeFree([{ conversation: "a", json: "x".repeat(500), n: 0 }], new Set(), peer).taken).toHaveLength(1);
    expect(withinLimits(all, (i) => i.json, peer)).toBe(1);
  });
});
