import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { toB64u } from "../../shared/base64url.js";
import { anything, bytes, expectSameAsSchema, id16, mutated, seq } from "./shortcut-property.js";
import { MLS_MESSAGE_CHARS } from "../../shared/wire/conversation.js";
import { SessionClientFrameSchema } from "../../shared/wire/index.js";
import { parseSessionFrame } from "../../shared/wire/session-frame.js";

// parseSessionFrame's shortcut against SessionClientFrameSchema, the reference: for any input both
// accept or both refuse, with the same output, and a busy session's usual frames go by the shortcut.

const mls = fc.oneof(
  { weight: 40, arbitrary: fc.uint8Array({ maxLength: 300 }).map(toB64u) },
  fc.constantFrom("A", "AB", "AAB=", "a+b/", "ab==", "A".repeat(MLS_MESSAGE_CHARS), "A".repeat(MLS_MESSAGE_CHARS + 1), "A".repeat(MLS_MESSAGE_CHARS + 3)),
  fc.string(),
);
const kind = fc.oneof({ weight: 20, arbitrary: fc.constantFrom("application", "proposal") }, fc.constantFrom("commit", "welcome", "Application", ""));

const submit = mutated(fc.record({ id: id16, epoch: seq, kind, mls }, { noNullPrototype: true }), ["welcome", "roster", "id"]);
const seqs = fc.oneof(
  { weight: 20, arbitrary: fc.array(seq, { minLength: 1, maxLength: 4 }) },
  fc.constant([]),
  fc.array(fc.nat(), { minLength: 256, maxLength: 256 }),
  fc.array(fc.nat(), { minLength: 257, maxLength: 257 }),
  anything,
);
// A submission frame carries its turn's `got` or none (PROTOCOL §10).
const withGot = { requiredKeys: ["t", "submits"] as ("t" | "submits")[], noNullPrototype: true };
const submits = fc.record(
  {
    t: fc.oneof({ weight: 20, arbitrary: fc.constant("submits") }, fc.constantFrom("submit", "got", "Submits")),
    submits: fc.oneof({ weight: 20, arbitrary: fc.array(submit, { minLength: 1, maxLength: 4 }) }, fc.constant([]), fc.array(submit, { minLength: 65, maxLength: 66 }), anything),
    got: seqs,
  },
  withGot,
);
const single = fc.record(
  { t: fc.oneof({ weight: 20, arbitrary: fc.constant("submit") }, fc.constantFrom("submits", "got")), submit, got: seqs },
  { requiredKeys: ["t", "submit"], noNullPrototype: true },
);
const got = fc.record(
  {
    t: fc.oneof({ weight: 20, arbitrary: fc.constant("got") }, fc.constantFrom("submits", "ping")),
    seqs,
  },
  { noNullPrototype: true },
);
const frame = fc.oneof(
  { weight: 6, arbitrary: mutated(submits, ["submit", "seqs", "got"]) },
  { weight: 6, arbitrary: mutated(single, ["submits", "seqs", "got"]) },
  { weight: 4, arbitrary: mutated(got, ["submits", "got"]) },
  anything,
);

describe("parseSessionFrame", () => {
  it("accepts and refuses exactly what SessionClientFrameSchema does, with the same output", () => {
    expectSameAsSchema(parseSessionFrame, SessionClientFrameSchema, frame);
  }, 60_000);

  it("takes a burst of messages, a message, each with or without got, and a got by the shortcut, a commit or a welcome by the schema", () => {
    const message = { id: "AAAAAAAAAAAAAAAAAAAAAA", epoch: 1, kind: "application", mls: "AAEC" };
    const burst = { t: "submits", submits: [message, { ...message, kind: "proposal" }] };
    expect(parseSessionFrame(burst).output).toBe(burst);
    const answer = { t: "submit", submit: message, got: [7] };
    expect(parseSessionFrame(answer).output).toBe(answer);
    expect(parseSessionFrame({ ...burst, got: [7, 8] }).success).toBe(true);
    expect(parseSessionFrame({ ...answer, got: [] }).success).toBe(false);
    expect(parseSessionFrame({ ...answer, got: Array.from({ length: 257 }, (_, i) => i) }).success).toBe(false);
    expect(parseSessionFrame({ ...answer, got: [-1] }).success).toBe(false);
    const seen = { t: "got", seqs: [1, 2] };
    expect(parseSessionFrame(seen).output).toBe(seen);
    const commit = { t: "submits", submits: [{ ...message, kind: "commit", mls: "A".repeat(MLS_MESSAGE_CHARS + 4) }] };
    expect(parseSessionFrame(commit).output).toStrictEqual(commit);
    expect(parseSessionFrame(commit).output).not.toBe(commit);
    expect(parseSessionFrame({ t: "submits", submits: [{ ...message, mls: "A".repeat(MLS_MESSAGE_CHARS + 4) }] }).success).toBe(false);
    expect(parseSessionFrame({ t: "submits", submits: [{ ...message, epoch: -1 }] }).success).toBe(false);
    expect(parseSessionFrame({ t: "got", seqs: [] }).success).toBe(false);
  });
});
