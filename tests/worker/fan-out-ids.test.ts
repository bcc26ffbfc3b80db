import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2.js";
import { toB64u } from "../../shared/base64url.js";
import type { Domain } from "../../shared/address.js";
import type { ConvPayload } from "../../shared/wire/index.js";
import { fedItemId } from "../../worker/fan-out.js";

// A federation item's id is how the receiving server knows a re-run fan-out's items again (§7):
// fedItemId, which encodes the id's last bytes itself, must give exactly the ids it gave when it
// made all 16 bytes and base64url-encoded them with toB64u, kept here as the reference.

const TYPE_CODES: Record<ConvPayload["type"], number> = { application: 0, commit: 1, proposal: 2, welcome: 3, withdrawn: 0, rejoin: 0 };

function referenceId(payload: Pick<ConvPayload, "conversation" | "hubSeq" | "type">, domain: string): string {
  const id = new Uint8Array(16);
  id.set(sha256(new TextEncoder().encode(`${payload.conversation}\n${domain}`)).subarray(0, 10));
  let n = payload.hubSeq * 4 + TYPE_CODES[payload.type];
  for (let i = 15; i >= 10; i--) {
    id[i] = n % 256;
    n = Math.floor(n / 256);
  }
  return toB64u(id);
}

const conversation = fc.oneof(fc.constantFrom("im.alice.test/AAAAAAAAAAAAAAAAAAAAAA", "im.alice.test/AAAAAAAAAAAAAAAAAAAAAQ"), fc.string({ unit: "binary" }));
const domain = fc.oneof(fc.constantFrom("im.bob.test", "im.carol.test"), fc.string());
const hubSeq = fc.oneof(fc.nat({ max: 100_000 }), fc.nat(), fc.maxSafeNat(), fc.constantFrom(2 ** 46 - 1, 2 ** 46, 2 ** 48, Number.MAX_SAFE_INTEGER));
const type = fc.constantFrom<ConvPayload["type"]>("application", "commit", "proposal", "welcome", "withdrawn", "rejoin");
const call = fc.record({ conversation, domain, hubSeq, type });

describe("fedItemId", () => {
  it("gives the ids the 16 bytes' toB64u gave, whatever conversations and domains come in turn", () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 20 }), (calls) => {
        for (const c of calls) {
          const payload = { conversation: c.conversation, hubSeq: c.hubSeq, type: c.type } as ConvPayload;
          expect(fedItemId(payload, c.domain as Domain)).toBe(referenceId(payload, c.domain));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("tells a conversation's entries apart by position and type, and the same entry to two domains", () => {
    const at = (hubSeq: number, type: ConvPayload["type"], to = "im.bob.test") =>
      fedItemId({ conversation: "im.alice.test/AAAAAAAAAAAAAAAAAAAAAA", hubSeq, type } as ConvPayload, to as Domain);
    const ids = [at(1, "application"), at(2, "application"), at(1, "commit"), at(1, "welcome"), at(1, "application", "im.carol.test")];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
  });
});
