import { describe, expect, it } from "vitest";
import { type ConversationRecord, markApplied, wasApplied } from "../../shared/client/conversation-record.js";

const record = { conversation: "im.alice.test/AAAAAAAAAAAAAAAAAAAAAA", members: [], group: "", epoch: 1, lastHubSeq: 0, created: 0, unread: 0 } as ConversationRecord;

describe("hub positions applied", () => {
  it("are remembered in order, the newest 512, whether they come in order or not", () => {
    // 1..600 in order, but 300 comes after 310 and 599 after 600.
    const order = Array.from({ length: 600 }, (_, i) => i + 1).filter((s) => s !== 300 && s !== 599);
    order.splice(order.indexOf(310) + 1, 0, 300);
    order.push(599);
    let r = record;
    for (const seq of order.slice(0, -2)) r = markApplied(r, seq);
    r = markApplied(markApplied(r, 600), 599);
    expect(r.applied).toEqual(Array.from({ length: 512 }, (_, i) => 89 + i));
    expect(r.lastHubSeq).toBe(600);
    expect([1, 88, 89, 300, 599, 600].every((seq) => wasApplied(r, seq))).toBe(true);
    expect(wasApplied(r, 601)).toBe(false);
    // The record it came from is left as it was.
    expect(markApplied(r, 601).applied!.at(-1)).toBe(601);
    expect(r.applied!.at(-1)).toBe(600);
  });
});
