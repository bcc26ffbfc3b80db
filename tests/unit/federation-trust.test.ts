import { describe, expect, it } from "vitest";
import type { Address, Domain } from "../../shared/address.js";
import { mayBounce } from "../../worker/policy/bounces.js";
import { admitConversationItem } from "../../worker/policy/strangers.js";

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

describe("a conversation item's author (PROTOCOL §9)", () => {
  const policies = ["accept", "review", "refuse"] as const;

  it("takes a friend's item as the friend's, and joins, only when the author is proven", () => {
    for (const policy of policies) expect(admitConversationItem("friend", policy, false, "proven")).toEqual({ verdict: "deliver", join: true });
    expect(admitConversationItem("friend", "refuse", false, "unchecked")).toEqual({ verdict: "prove" });
    expect(admitConversationItem("friend", "refuse", false, "unproven")).toEqual({ verdict: "refuse", code: "stranger_refused" });
    expect(admitConversationItem("friend", "accept", false, "unproven")).toEqual({ verdict: "deliver", join: false });
  });

  it("asks for no proof where the verdict does not hang on it", () => {
    for (const policy of policies) {
      expect(admitConversationItem("friend", policy, true, "unchecked")).toEqual({ verdict: "deliver", join: false });
      expect(admitConversationItem(undefined, policy, false, "unchecked").verdict).not.toBe("prove");
    }
  });

  it("lets a claimed author only lower trust: a blocked address stays refused, proof or not", () => {
    for (const standing of ["proven", "unchecked", "unproven"] as const) {
      expect(admitConversationItem("blocked", "accept", true, standing)).toEqual({ verdict: "refuse", code: "forbidden" });
    }
  });
});
