import { describe, expect, it } from "vitest";
import type { MessageRecord } from "../../shared/client/messages.js";
import { messageView } from "../../extension/background/views.js";
import { timelineMessage } from "../../extension/ui/message-view.js";
import { buildTimeline } from "../../ui/view-models/timeline.js";
import { translator } from "../../ui/i18n/translate.js";

const base: MessageRecord = {
  id: "AAAAAAAAAAAAAAAAAAAAAA", conversation: "im.a.test/c", from: "alice#im.a.test" as MessageRecord["from"], direction: "out", text: "see https://example.com/x", at: 1_000, status: "delivered",
};

describe("the extension's chat shows what the PWA shows of a message", () => {
  it("carries edits, deletes, read ticks, replies, reactions and safe links from the core to the timeline", () => {
    const edited = messageView({ ...base, editedAt: 2_000, read: true, reactions: [{ by: base.from, emoji: "👍", at: 3 }, { by: "bob#im.b.test" as MessageRecord["from"], emoji: "👍", at: 4 }] });
    const reply = messageView({ ...base, id: "BBBBBBBBBBBBBBBBBBBBBB", direction: "in", from: "bob#im.b.test" as MessageRecord["from"], text: "ok", status: "received", replyTo: base.id, at: 2_500 });
    const gone = messageView({ ...base, id: "CCCCCCCCCCCCCCCCCCCCCC", text: "", deleted: true, at: 3_000 });
    const byId = new Map([edited, reply, gone].map((m) => [m.id, m]));
    const t = translator("en");
    const items = buildTimeline([edited, reply, gone].map((m) => timelineMessage(m, t, byId)), 10_000, "en", t);
    const [first, second, third] = items.filter((i) => i.kind === "message");
    expect(first).toMatchObject({ edited: true, status: "read", reactions: [{ emoji: "👍", count: 2 }] });
    expect(first!.kind === "message" && first!.parts).toEqual([{ text: "see " }, { text: "https://example.com/x", href: "https://example.com/x" }]);
    expect(second).toMatchObject({ quote: { id: base.id, author: "You", text: "see https://example.com/x" } });
    expect(third).toMatchObject({ deleted: true, parts: [] });
  });
});
