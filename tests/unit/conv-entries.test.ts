import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { toB64u } from "../../shared/base64url.js";
import type { ConvPayload } from "../../shared/wire/index.js";
import { convEntries, entryAt, entryTextAt, hubPosition, storedItem } from "../../worker/conv-entries.js";

// An Account call carries a hub's entries as their texts (worker/conv-entries.ts); the mailbox row
// made of them must be what it was made of the objects before: JSON.stringify of the entry with
// kind "conv" and the mailbox's seq and at, each key once, every field of every entry type.

const id16 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(toB64u);
const seq = fc.nat();
const address = fc.constantFrom("alice#im.alice.test", "bob#im.bob.test", "carol.x#im.evil.test");
const conversation = fc.constantFrom("im.alice.test/AAAAAAAAAAAAAAAAAAAAAA", "im.evil.test/AAAAAAAAAAAAAAAAAAAAAQ");
const payload: fc.Arbitrary<ConvPayload> = fc.record(
  {
    conversation,
    id: id16,
    hubSeq: seq,
    from: address,
    deviceId: id16,
    epoch: seq,
    type: fc.constantFrom("application", "commit", "proposal", "welcome", "withdrawn", "rejoin"),
    // Checked entries carry base64url; the text is right for any other text too.
    mls: fc.oneof(fc.constant(""), fc.uint8Array({ maxLength: 200 }).map(toB64u), fc.string({ unit: "binary" }), fc.constantFrom('a"b', "a\\b", "\u2028", "\ud800")),
    members: fc.array(fc.oneof(address, fc.string()), { maxLength: 3 }),
    withdraws: fc.array(fc.record({ id: id16, hubSeq: seq }), { minLength: 1, maxLength: 4 }),
    at: seq,
  },
  { requiredKeys: ["conversation", "id", "hubSeq", "from", "deviceId", "epoch", "type", "mls", "at"], noNullPrototype: true },
) as fc.Arbitrary<ConvPayload>;

/** The row's item as the mailbox made it from the entry object before. */
const before = (p: ConvPayload, seqOf: number, at: number) => JSON.stringify({ kind: "conv", ...p, seq: seqOf, at });

describe("convEntries", () => {
  it("makes each stored item as JSON.stringify made it of the entry, with the mailbox's seq and at", () => {
    fc.assert(
      fc.property(fc.array(payload, { minLength: 1, maxLength: 20 }), fc.nat(), fc.nat(), (payloads, first, now) => {
        const entries = convEntries(payloads);
        payloads.forEach((p, i) => {
          const text = storedItem(entryTextAt(entries, i), first + i, now);
          expect(JSON.parse(text)).toEqual(JSON.parse(before(p, first + i, now)));
          // Each key once: parsed and written again, it is the same text.
          expect(JSON.stringify(JSON.parse(text))).toBe(text);
          const { at: _at, ...rest } = p;
          expect(entryAt(entries, i)).toEqual(rest);
          expect(entries.authors[entries.authorOf[i]!]).toBe(p.from);
          expect(entries.conversations[entries.conversationOf[i]!]).toBe(p.conversation);
          expect(entries.positions[i]).toBe(hubPosition(p));
        });
      }),
    );
  });

  it("names the application entries answered by id, with their devices", () => {
    const p = (id: string, type: ConvPayload["type"]): ConvPayload => ({
      conversation: "im.alice.test/AAAAAAAAAAAAAAAAAAAAAA" as ConvPayload["conversation"],
      id,
      hubSeq: 1,
      from: "alice#im.alice.test" as ConvPayload["from"],
      deviceId: `${id}dev`,
      epoch: 1,
      type,
      mls: "",
      at: 1,
    });
    const entries = convEntries([p("a", "application"), p("b", "commit"), p("c", "application"), p("d", "application")], ["a", "b", "d"]);
    expect(entries.answered).toEqual([
      { index: 0, deviceId: "adev" },
      { index: 3, deviceId: "ddev" },
    ]);
  });
});
