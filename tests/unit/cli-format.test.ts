import { describe, expect, it } from "vitest";
import { formatMessage } from "../../cli/format.js";
import type { MessageRecord } from "../../shared/client/messages.js";

describe("the CLI's message lines", () => {
  it("mark history that moved in with the account, which no one sent here", () => {
    const from = "bob#im.bob.test" as MessageRecord["from"];
    const base = { id: "m1", from, direction: "in", text: "yes, at noon", at: Date.UTC(2026, 0, 2, 12), status: "received" } as const;
    expect(formatMessage({ ...base, conversation: "moved:bob#im.bob.test" })).toMatch(/bob#im\.bob\.test: yes, at noon {2}\(moved history\)$/);
    expect(formatMessage({ ...base, conversation: "im.bob.test/AAAAAAAAAAAAAAAAAAAAAA" })).not.toContain("moved");
  });
});
