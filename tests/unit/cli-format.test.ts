import { describe, expect, it } from "vitest";
import { formatMessage, lastLineText } from "../../cli/format.js";
import type { MessageRecord } from "../../shared/client/messages.js";

describe("the CLI's message lines", () => {
  it("mark history that moved in with the account, which no one sent here", () => {
    const from = "bob#im.bob.test" as MessageRecord["from"];
    const base = { id: "m1", from, direction: "in", text: "yes, at noon", at: Date.UTC(2026, 0, 2, 12), status: "received" } as const;
    expect(formatMessage({ ...base, conversation: "moved:bob#im.bob.test" })).toMatch(/bob#im\.bob\.test: yes, at noon {2}\(earlier history\)$/);
    expect(formatMessage({ ...base, conversation: "im.bob.test/AAAAAAAAAAAAAAAAAAAAAA" })).not.toContain("moved");
  });

  it("show a chat whose last line is its timer by the notice, in the list of chats", () => {
    const from = "bob#im.bob.test" as MessageRecord["from"];
    const line = { id: "t1", from, direction: "in", text: "", at: Date.UTC(2026, 0, 2, 12), status: "received" } as const;
    expect(lastLineText({ ...line, notice: { type: "timer", by: from, days: 1 } })).toBe("* bob#im.bob.test set messages here to be kept for 1 day");
    expect(lastLineText({ ...line, text: "see you" }, () => "Bob (bob#im.bob.test)")).toBe("Bob (bob#im.bob.test): see you");
  });
});
