import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Address } from "../../shared/address.js";
import { EmsgError } from "../../shared/errors.js";
import type { Submit } from "../../shared/wire/index.js";
import { admitConversationItem, admitFriendRequest, admitFriendResponse } from "../../worker/policy/strangers.js";
import { judgeSubmit, recipientsOf, welcomeRecipients, type HubState } from "../../worker/policy/epoch.js";
import { parseRateRules, takeToken } from "../../worker/policy/rate-limit.js";
import { fateOf, retryDelay, MAX_RETRY_MS } from "../../worker/policy/retry.js";

const a = "alice#im.alice.test" as Address;
const b = "bob#im.bob.test" as Address;
const c = "carol#im.carol.test" as Address;
const submit = (s: Partial<Submit>): Submit => ({ id: "AAAAAAAAAAAAAAAAAAAAAA", epoch: 0, kind: "application", mls: "AA", ...s });

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as EmsgError).code;
  }
}

describe("stranger policy", () => {
  it("lets friend requests from strangers in, holds or refuses them by setting", () => {
    expect(admitFriendRequest(undefined, "accept")).toEqual({ verdict: "deliver" });
    expect(admitFriendRequest(undefined, "review")).toEqual({ verdict: "hold" });
    expect(admitFriendRequest(undefined, "refuse")).toEqual({ verdict: "refuse", code: "stranger_refused" });
  });

  it("always lets in someone you asked, and never someone you blocked", () => {
    for (const policy of ["accept", "review", "refuse"] as const) {
      expect(admitFriendRequest("outgoing", policy)).toEqual({ verdict: "deliver" });
      expect(admitFriendRequest("blocked", policy)).toEqual({ verdict: "refuse", code: "forbidden" });
      expect(admitConversationItem("blocked", policy, true, "proven")).toEqual({ verdict: "refuse", code: "forbidden" });
      expect(admitConversationItem("friend", policy, false, "proven")).toEqual({ verdict: "deliver", join: true });
      expect(admitConversationItem(undefined, policy, true, "proven")).toEqual({ verdict: "deliver", join: false });
    }
  });

  it("refuses conversation items from strangers unless the user accepts strangers", () => {
    expect(admitConversationItem(undefined, "accept", false, "proven")).toEqual({ verdict: "deliver", join: false });
    expect(admitConversationItem(undefined, "review", false, "proven")).toEqual({ verdict: "refuse", code: "stranger_refused" });
    expect(admitConversationItem("incoming", "refuse", false, "proven")).toEqual({ verdict: "refuse", code: "stranger_refused" });
  });

  it("takes friend responses only to requests the user sent", () => {
    expect(admitFriendResponse("outgoing")).toEqual({ verdict: "deliver" });
    expect(admitFriendResponse(undefined).verdict).toBe("refuse");
    expect(admitFriendResponse("incoming").verdict).toBe("refuse");
  });
});

describe("hub ordering rules", () => {
  const hub = { epoch: 3, members: [a, b] };

  it("accepts application messages at the current epoch only, from members only", () => {
    expect(judgeSubmit(hub, a, submit({ epoch: 3 }))).toBe(hub);
    expect(codeOf(() => judgeSubmit(hub, a, submit({ epoch: 2 })))).toBe("stale_epoch");
    expect(codeOf(() => judgeSubmit(hub, a, submit({ epoch: 4 })))).toBe("bad_request");
    expect(codeOf(() => judgeSubmit(hub, c, submit({ epoch: 3 })))).toBe("forbidden");
  });

  it("takes a commit only at the current epoch and moves the epoch on", () => {
    expect(codeOf(() => judgeSubmit(hub, a, submit({ kind: "commit", epoch: 2 })))).toBe("stale_epoch");
    expect(judgeSubmit(hub, a, submit({ kind: "commit", epoch: 3, roster: { add: [c], remove: [b] } }))).toEqual({ epoch: 4, members: [a, c] });
  });

  it("refuses rosters that make no sense", () => {
    expect(codeOf(() => judgeSubmit(hub, a, submit({ kind: "commit", epoch: 3, roster: { add: [c], remove: [c] } })))).toBe("bad_request");
    expect(codeOf(() => judgeSubmit(hub, a, submit({ kind: "commit", epoch: 3, roster: { add: [], remove: [c] } })))).toBe("bad_request");
    expect(codeOf(() => judgeSubmit(hub, a, submit({ kind: "commit", epoch: 3, roster: { add: [], remove: [a, b] } })))).toBe("bad_request");
    expect(codeOf(() => judgeSubmit(hub, a, submit({ epoch: 3, roster: { add: [c], remove: [] } })))).toBe("bad_request");
  });

  it("sends a commit to members before and after it, and its Welcome to the added", () => {
    expect(recipientsOf([a, b], [a, c])).toEqual([a, b, c]);
    expect(welcomeRecipients([a, b, c], submit({ kind: "commit", roster: { add: [c], remove: [] } }))).toEqual([c]);
    expect(welcomeRecipients([a, b], submit({ kind: "commit" }))).toEqual([a, b]);
  });

  it("never lets the epoch go backwards over any sequence of accepted submissions", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ commit: fc.boolean(), lag: fc.nat(2) }), { maxLength: 40 }), (steps) => {
        let state: HubState = { epoch: 0, members: [a, b] };
        for (const s of steps) {
          const kind = s.commit ? "commit" : "application";
          const epoch = Math.max(0, state.epoch - s.lag);
          try {
            const next = judgeSubmit(state, a, submit({ kind, epoch }));
            expect(next.epoch).toBeGreaterThanOrEqual(state.epoch);
            state = next;
          } catch (e) {
            // Every kind of submission is refused only when it is behind the hub.
            expect(epoch).toBeLessThan(state.epoch);
            expect((e as EmsgError).code).toBe("stale_epoch");
          }
        }
      }),
    );
  });
});

describe("rate limits", () => {
  it("allows a burst, then refills at the given rate", () => {
    const rule = { burst: 3, perSecond: 1 };
    let bucket = undefined as ReturnType<typeof takeToken>["bucket"] | undefined;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const t = takeToken(bucket, rule, 1000);
      bucket = t.bucket;
      outcomes.push(t.allowed);
    }
    expect(outcomes).toEqual([true, true, true, false]);
    expect(takeToken(bucket, rule, 1000).retryAfterSeconds).toBe(1);
    expect(takeToken(bucket, rule, 2001).allowed).toBe(true);
  });

  it("reads EMSG_RATE and refuses what it cannot read", () => {
    expect(parseRateRules("account=5:0.5").account).toEqual({ burst: 5, perSecond: 0.5 });
    expect(parseRateRules(undefined).ip.burst).toBeGreaterThan(0);
    expect(() => parseRateRules("account=lots")).toThrow(/EMSG_RATE/);
  });
});

describe("outbox retries", () => {
  it("backs off from 1 s doubling to at most 10 minutes", () => {
    expect([1, 2, 3, 4].map(retryDelay)).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(30)).toBe(MAX_RETRY_MS);
  });

  it("bounces permanent errors at once and retryable ones after the TTL", () => {
    expect(fateOf(undefined, 0, 5, 100)).toBe("done");
    expect(fateOf("stranger_refused", 0, 5, 100)).toBe("bounce");
    expect(fateOf("peer_unreachable", 0, 5, 100)).toBe("retry");
    expect(fateOf("peer_unreachable", 0, 100, 100)).toBe("bounce");
  });
});
