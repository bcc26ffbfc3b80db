import { expect } from "vitest";
import fc from "fast-check";
import * as v from "valibot";
import { toB64u } from "../../shared/base64url.js";

// What the property tests of a wire check's shortcut share (fed-deliver, session-frame): inputs
// near the valid ones, and the comparison with the valibot schema that stays the reference.

export const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toB64u);
export const id16 = fc.oneof({ weight: 40, arbitrary: bytes(16) }, bytes(15), bytes(17), fc.constantFrom("AAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAA=", "", "not an id at all!!!!!!"));
export const seq = fc.oneof(
  { weight: 40, arbitrary: fc.nat() },
  fc.constantFrom(-1, -0, 0.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Number.POSITIVE_INFINITY, 1e21),
  fc.double(),
  fc.string(),
);
export const anything = fc.anything({ maxDepth: 2 });

/** `base` with some of its keys dropped, some replaced by anything, and some keys added. */
export function mutated(base: fc.Arbitrary<Record<string, unknown>>, extraKeys: string[]): fc.Arbitrary<unknown> {
  return fc
    .tuple(
      base,
      fc.array(fc.nat(), { maxLength: 2 }),
      fc.array(fc.tuple(fc.nat(), anything), { maxLength: 2 }),
      fc.dictionary(fc.oneof(fc.constantFrom(...extraKeys), fc.string({ maxLength: 6 })), anything, { maxKeys: 2 }),
      fc.nat({ max: 3 }),
    )
    .map(([object, drops, replaces, extra, how]) => {
      if (how !== 0) return object; // mostly left whole, so valid inputs are common
      const out: Record<string, unknown> = { ...object };
      const keys = Object.keys(out);
      for (const d of drops) delete out[keys[d % keys.length]!];
      for (const [r, value] of replaces) out[keys[r % keys.length]!] = value;
      return { ...out, ...extra };
    });
}

type Parsed = { success: boolean; output?: unknown; issues?: readonly { message: string }[] | undefined };

/**
 * Asserts that `fast` accepts and refuses exactly what `schema` does, with the same output and
 * first message, over 5,000 inputs; and that both sides were exercised (inputs the shortcut took
 * as they came, and refusals).
 */
export function expectSameAsSchema(fast: (raw: unknown) => Parsed, schema: v.GenericSchema, inputs: fc.Arbitrary<unknown>): void {
  let shortcut = 0;
  let refused = 0;
  fc.assert(
    fc.property(inputs, (raw) => {
      const answer = fast(raw);
      const reference = v.safeParse(schema, raw);
      expect(answer.success).toBe(reference.success);
      if (reference.success) expect(answer.output).toStrictEqual(reference.output);
      else expect(answer.issues?.[0]?.message).toBe(reference.issues[0].message);
      if (answer.success && answer.output === raw) shortcut++;
      if (!answer.success) refused++;
    }),
    { numRuns: 5_000 },
  );
  expect(shortcut).toBeGreaterThan(200);
  expect(refused).toBeGreaterThan(200);
}
