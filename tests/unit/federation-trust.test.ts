import { describe, expect, it } from "vitest";
import type { Address, Domain } from "../../shared/address.js";
import { mayBounce } from "../../worker/policy/bounces.js";

const rogue = "im.evil.test" as Domain;
const alice = "alice#im.alice.test" as Address;

describe("who may bounce (PROTOCOL §7)", () => {
  it("lets the domain that was asked bounce, and nobody else", () => {
    expect(mayBounce("im.alice.test" as Domain, alice, undefined)).toBe(true);
    expect(mayBounce(rogue, alice, undefined)).toBe(false);
  });

  it("lets a conversation's hub bounce for any recipient it fanned out to, and no other domain", () => {
    expect(mayBounce(rogue, alice, "im.evil.test/AAAAAAAAAAAAAAAAAAAAAA")).toBe(true);
    expect(mayBounce(rogue, alice, "im.carol.test/AAAAAAAAAAAAAAAAAAAAAA")).toBe(false);
    expect(mayBounce("im.alice.test" as Domain, alice, "im.carol.test/AAAAAAAAAAAAAAAAAAAAAA")).toBe(true);
  });
});
