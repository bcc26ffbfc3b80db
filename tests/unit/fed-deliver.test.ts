import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { toB64u } from "../../shared/base64url.js";
import { anything, bytes, expectSameAsSchema, id16, mutated, seq } from "./shortcut-property.js";
import { FedItemSchema } from "../../shared/wire/index.js";
import { parseFedItem } from "../../shared/wire/fed-deliver.js";

// parseFedItem's shortcut against FedItemSchema, the reference: for any input both accept or both
// refuse, with the same output, and the usual item goes by the shortcut (its output is the input).

const address = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom("alice#im.alice.test", "bob#im.bob.test", "carol.x#im.evil.test") },
  fc.constantFrom("Alice#im.alice.test", "alice#IM.alice.test", " bob#im.bob.test", "bob", "bob#", "#im.bob.test", "a#b#c.test", "emsg:bob#im.bob.test"),
  fc.string(),
);
const conversation = fc.oneof(
  { weight: 40, arbitrary: bytes(16).map((id) => `im.evil.test/${id}`) },
  bytes(16).map((id) => `IM.evil.test/${id}`),
  bytes(15).map((id) => `im.evil.test/${id}`),
  fc.constantFrom("im.evil.test", "/", "im.evil.test/"),
  fc.string(),
);
const mls = fc.oneof(
  { weight: 40, arbitrary: fc.uint8Array({ maxLength: 300 }).map(toB64u) },
  fc.constantFrom("A", "AB", "AAB=", "a+b/", "ab=="),
  fc.string(),
);
const type = fc.oneof({ weight: 40, arbitrary: fc.constant("application") }, fc.constantFrom("commit", "proposal", "welcome", "withdrawn", "rejoin", "Application", ""));

const payload = fc.record({ conversation, id: id16, hubSeq: seq, from: address, deviceId: id16, epoch: seq, type, mls, at: seq }, { noNullPrototype: true });
const deliver = fc
  .tuple(
    fc.record({
      id: id16,
      kind: fc.oneof({ weight: 40, arbitrary: fc.constant("conv_deliver") }, fc.constantFrom("conv_submit", "bounce", "moved")),
      conversation,
      to: fc.oneof({ weight: 40, arbitrary: fc.array(address, { minLength: 1, maxLength: 3 }) }, fc.constant([]), anything),
      item: mutated(payload, ["members", "withdraws", "seq", "kind"]),
    }, { noNullPrototype: true }),
    fc.constantFrom<unknown>(undefined, true, false, "true"),
  )
  .map(([item, answered]) => (answered === undefined ? item : { ...item, answered }));
const fedItem = fc.oneof({ weight: 8, arbitrary: mutated(deliver, ["authorProof", "authorTicket", "answered", "signed"]) }, anything);

describe("parseFedItem", () => {
  it("accepts and refuses exactly what FedItemSchema does, with the same output", () => {
    expectSameAsSchema(parseFedItem, FedItemSchema, fedItem);
  }, 60_000);

  it("takes a hub's usual delivery by the shortcut, and one with an author's proof by the schema", () => {
    const item = {
      id: "AAAAAAAAAAAAAAAAAAAAAA",
      kind: "conv_deliver",
      conversation: "im.evil.test/AAAAAAAAAAAAAAAAAAAAAA",
      to: ["bob#im.bob.test"],
      item: { conversation: "im.evil.test/AAAAAAAAAAAAAAAAAAAAAA", id: "AAAAAAAAAAAAAAAAAAAAAQ", hubSeq: 7, from: "alice#im.evil.test", deviceId: "AAAAAAAAAAAAAAAAAAAAAg", epoch: 1, type: "application", mls: "AAEC", at: 1 },
    };
    expect(parseFedItem(item).output).toBe(item);
    expect(parseFedItem({ ...item, answered: true }).success).toBe(true);
    expect(parseFedItem({ ...item, answered: false }).success).toBe(false);
    expect(parseFedItem({ ...item, item: { ...item.item, hubSeq: -1 } }).success).toBe(false);
    expect(parseFedItem({ ...item, to: ["Bob#im.bob.test"] }).success).toBe(false);
    const extra = { ...item, note: "dropped" };
    expect(parseFedItem(extra).output).toStrictEqual(item);
  });
});
