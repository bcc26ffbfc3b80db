import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { toB64u } from "../../shared/base64url.js";
import { anything, bytes, expectSameAsSchema, id16, mutated, seq } from "./shortcut-property.js";
import { WELCOME_CHARS } from "../../shared/wire/conversation.js";
import { ServerFrameSchema, SessionServerFrameSchema } from "../../shared/wire/index.js";
import { parseMailboxFrame, parseSessionServerFrame } from "../../shared/wire/server-frame.js";

// The shortcuts of a client's checks of server frames against the valibot schemas, the reference:
// for any input both accept or both refuse, with the same output, and a busy client's usual
// frames (mailbox items, the hub's acks and pushed entries) go by the shortcut.

const conversation = fc.oneof(
  { weight: 40, arbitrary: bytes(16).map((id) => `im.a.test/${id}`) },
  bytes(16).map((id) => `IM.A.TEST/${id}`),
  bytes(15).map((id) => `im.a.test/${id}`),
  fc.constantFrom("im.a.test", "/AAAAAAAAAAAAAAAAAAAAAA", ""),
  fc.string(),
);
const address = fc.oneof({ weight: 40, arbitrary: fc.constantFrom("alice#im.a.test", "bob#im.b.test") }, fc.constantFrom("Alice#im.a.test", "alice", "alice#", ""), fc.string());
const type = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom("application", "commit", "proposal", "welcome", "withdrawn", "rejoin") },
  fc.constantFrom("Application", "vetoed", ""),
);
const mls = fc.oneof(
  { weight: 40, arbitrary: fc.uint8Array({ maxLength: 300 }).map(toB64u) },
  fc.constantFrom("", "A", "AB", "AAB=", "a+b/", "A".repeat(WELCOME_CHARS), "A".repeat(WELCOME_CHARS + 1), "A".repeat(WELCOME_CHARS + 3)),
  fc.string(),
);
const payload = { conversation, id: id16, hubSeq: seq, from: address, deviceId: id16, epoch: seq, type, mls, at: seq };
const optionalParts = ["members", "withdraws"];
const entry = mutated(fc.record(payload, { noNullPrototype: true }), [...optionalParts, "seq", "kind"]);
const kind = fc.oneof({ weight: 20, arbitrary: fc.constant("conv") }, fc.constantFrom("bounce", "Conv"));
const mailItem = mutated(fc.record({ ...payload, seq, kind }, { noNullPrototype: true }), [...optionalParts, "t"]);
const items = fc.record(
  {
    t: fc.oneof({ weight: 20, arbitrary: fc.constant("items") }, fc.constantFrom("pong", "item")),
    items: fc.oneof({ weight: 20, arbitrary: fc.array(mailItem, { maxLength: 3 }) }, anything),
    left: seq,
  },
  { requiredKeys: ["t", "items"], noNullPrototype: true },
);

const ack = mutated(fc.record({ id: id16, seq }, { noNullPrototype: true }), ["t", "hubSeq"]);
const acks = fc.record(
  { t: fc.oneof({ weight: 20, arbitrary: fc.constant("acks") }, fc.constantFrom("ack", "item")), acks: fc.oneof({ weight: 20, arbitrary: fc.array(ack, { maxLength: 4 }) }, anything) },
  { noNullPrototype: true },
);
const oneAck = fc.record({ t: fc.oneof({ weight: 20, arbitrary: fc.constant("ack") }, fc.constantFrom("acks", "error")), id: id16, seq }, { noNullPrototype: true });
const item = fc.record({ t: fc.oneof({ weight: 20, arbitrary: fc.constant("item") }, fc.constantFrom("items", "ack")), item: entry }, { noNullPrototype: true });

describe("parseMailboxFrame", () => {
  it("accepts and refuses exactly what ServerFrameSchema does, with the same output", () => {
    expectSameAsSchema(parseMailboxFrame, ServerFrameSchema, fc.oneof({ weight: 8, arbitrary: mutated(items, ["items", "left", "acks"]) }, anything));
  }, 60_000);

  it("takes a frame of conversation entries by the shortcut, one with another kind of item or an optional part by the schema", () => {
    const message = {
      seq: 7, at: 1, kind: "conv", conversation: "im.a.test/AAAAAAAAAAAAAAAAAAAAAA", id: "AAAAAAAAAAAAAAAAAAAAAA", hubSeq: 3,
      from: "alice#im.a.test", deviceId: "AAAAAAAAAAAAAAAAAAAAAA", epoch: 1, type: "application", mls: "AAEC",
    };
    const frame = { t: "items", items: [message, { ...message, seq: 8, type: "commit" }], left: 5 };
    expect(parseMailboxFrame(frame).output).toBe(frame);
    const bounce = { t: "items", items: [{ seq: 9, at: 1, kind: "bounce", ref: message.id, to: message.from, error: "stale_epoch" }] };
    expect(parseMailboxFrame(bounce).output).toStrictEqual(bounce);
    expect(parseMailboxFrame(bounce).output).not.toBe(bounce);
    const joined = { t: "items", items: [{ ...message, type: "commit", members: ["bob#im.b.test"] }] };
    expect(parseMailboxFrame(joined).output).toStrictEqual(joined);
    expect(parseMailboxFrame({ t: "items", items: [{ ...message, mls: "AAB=" }] }).success).toBe(false);
    expect(parseMailboxFrame({ t: "items", items: [{ ...message, from: "Alice#im.a.test" }] }).success).toBe(false);
    expect(parseMailboxFrame({ ...frame, left: -1 }).success).toBe(false);
  });
});

describe("parseSessionServerFrame", () => {
  it("accepts and refuses exactly what SessionServerFrameSchema does, with the same output", () => {
    const frame = fc.oneof(
      { weight: 6, arbitrary: mutated(acks, ["ack", "id", "seq"]) },
      { weight: 3, arbitrary: mutated(oneAck, ["acks", "item", "error"]) },
      { weight: 4, arbitrary: mutated(item, ["acks", "message"]) },
      anything,
    );
    expectSameAsSchema(parseSessionServerFrame, SessionServerFrameSchema, frame);
  }, 60_000);

  it("takes the hub's acks, an ack and a pushed entry by the shortcut, an error by the schema", () => {
    const id = "AAAAAAAAAAAAAAAAAAAAAA";
    const answers = { t: "acks", acks: [{ id, seq: 1 }, { id, seq: 2 }] };
    expect(parseSessionServerFrame(answers).output).toBe(answers);
    const answer = { t: "ack", id, seq: 3 };
    expect(parseSessionServerFrame(answer).output).toBe(answer);
    const entryPushed = {
      t: "item",
      item: { conversation: `im.a.test/${id}`, id, hubSeq: 4, from: "alice#im.a.test", deviceId: id, epoch: 1, type: "application", mls: "AAEC", at: 1 },
    };
    expect(parseSessionServerFrame(entryPushed).output).toBe(entryPushed);
    const refused = { t: "error", error: "stale_epoch", message: "behind", id };
    expect(parseSessionServerFrame(refused).output).toStrictEqual(refused);
    expect(parseSessionServerFrame({ t: "acks", acks: [{ id, seq: -1 }] }).success).toBe(false);
    expect(parseSessionServerFrame({ t: "ack", id: "AAAA", seq: 1 }).success).toBe(false);
  });
});
