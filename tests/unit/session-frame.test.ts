import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as v from "valibot";
import { toB64u } from "../../shared/base64url.js";
import { MLS_MESSAGE_CHARS } from "../../shared/wire/conversation.js";
import { SessionClientFrameSchema } from "../../shared/wire/index.js";
import { parseSessionFrame } from "../../shared/wire/session-frame.js";

// parseSessionFrame's shortcut against SessionClientFrameSchema, the reference: for any input both
// accept or both refuse, with the same output, and a busy session's usual frames go by the shortcut.

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toB64u);
const id16 = fc.oneof({ weight: 40, arbitrary: bytes(16) }, bytes(15), bytes(17), fc.constantFrom("AAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAA=", "", "not an id at all!!!!!!"));
const seq = fc.oneof(
  { weight: 40, arbitrary: fc.nat() },
  fc.constantFrom(-1, -0, 0.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY, 1e21),
  fc.double(),
  fc.string(),
);
const mls = fc.oneof(
  { weight: 40, arbitrary: fc.uint8Array({ maxLength: 300 }).map(toB64u) },
  fc.constantFrom("A", "AB", "AAB=", "a+b/", "ab==", "A".repeat(MLS_MESSAGE_CHARS), "A".repeat(MLS_MESSAGE_CHARS + 1), "A".repeat(MLS_MESSAGE_CHARS + 3)),
  fc.string(),
);
const kind = fc.oneof({ weight: 20, arbitrary: fc.constantFrom("application", "proposal") }, fc.constantFrom("commit", "welcome", "Application", ""));
const anything = fc.anything({ maxDepth: 2 });

/** `base` with some of its keys dropped, some replaced by anything, and some keys added. */
function mutated(base: fc.Arbitrary<Record<string, unknown>>, extraKeys: string[]): fc.Arbitrary<unknown> {
  return fc
    .tuple(
      base,
      fc.array(fc.nat(), { maxLength: 2 }),
      fc.array(fc.tuple(fc.nat(), anything), { maxLength: 2 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...extraKeys), fc.string({ maxLength: 6 })), anything, { maxKeys: 2 }),
      fc.nat({ max: 3 }),
    )
    .map(([object, drops, replaces, extra, how]) => {
      if (how !== 0) return object; // mostly left whole, so valid frames are common
      const out: Record<string, unknown> = { ...object };
      const keys = Object.keys(out);
      for (const d of drops) delete out[keys[d % keys.length]!];
      for (const [r, value] of replaces) out[keys[r % keys.length]!] = value;
      return { ...out, ...extra };
    });
}

const submit = mutated(fc.record({ id: id16, epoch: seq, kind, mls }, { noNullPrototype: true }), ["welcome", "roster", "id"]);
const submits = fc.record(
  {
    t: fc.oneof({ weight: 20, arbitrary: fc.constant("submits") }, fc.constantFrom("submit", "got", "Submits")),
    submits: fc.oneof({ weight: 20, arbitrary: fc.array(submit, { minLength: 1, maxLength: 4 }) }, fc.constant([]), fc.array(submit, { minLength: 65, maxLength: 66 }), anything),
  },
  { noNullPrototype: true },
);
const got = fc.record(
  {
    t: fc.oneof({ weight: 20, arbitrary: fc.constant("got") }, fc.constantFrom("submits", "ping")),
    seqs: fc.oneof({ weight: 20, arbitrary: fc.array(seq, { minLength: 1, maxLength: 4 }) }, fc.constant([]), fc.array(fc.nat(), { minLength: 257, maxLength: 257 }), anything),
  },
  { noNullPrototype: true },
);
const frame = fc.oneof({ weight: 6, arbitrary: mutated(submits, ["submit", "seqs"]) }, { weight: 4, arbitrary: mutated(got, ["submits"]) }, anything);

describe("parseSessionFrame", () => {
  it("accepts and refuses exactly what SessionClientFrameSchema does, with the same output", () => {
    let shortcut = 0;
    let refused = 0;
    fc.assert(
      fc.property(frame, (raw) => {
        const fast = parseSessionFrame(raw);
        const reference = v.safeParse(SessionClientFrameSchema, raw);
        expect(fast.success).toBe(reference.success);
        if (reference.success) expect(fast.output).toStrictEqual(reference.output);
        else expect(fast.issues?.[0].message).toBe(reference.issues[0].message);
        if (fast.success && fast.output === raw) shortcut++;
        if (!fast.success) refused++;
      }),
      { numRuns: 5_000 },
    );
    // Both sides of the comparison were exercised: frames the shortcut took, and refusals.
    expect(shortcut).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(200);
  }, 60_000);

  it("takes a burst of messages and a got by the shortcut, a commit or a welcome by the schema", () => {
    const message = { id: "AAAAAAAAAAAAAAAAAAAAAA", epoch: 1, kind: "application", mls: "AAEC" };
    const burst = { t: "submits", submits: [message, { ...message, kind: "proposal" }] };
    expect(parseSessionFrame(burst).output).toBe(burst);
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
