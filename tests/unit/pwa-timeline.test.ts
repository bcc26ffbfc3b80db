import { describe, expect, it } from "vitest";
import { buildTimeline, type TimelineMessage } from "../../ui/view-models/timeline.js";
import { chatRows, previewOf } from "../../ui/view-models/chat-list.js";
import { translator } from "../../ui/i18n/translate.js";

const t = translator("en");
const now = new Date(2026, 10, 25, 15, 0).getTime();
const yesterday = new Date(2026, 10, 24, 9, 30).getTime();

function message(id: string, at: number, mine: boolean, status: TimelineMessage["status"] = null): TimelineMessage {
  return { id, at, mine, text: `text ${id}`, status, starred: false };
}

describe("conversation timeline", () => {
  it("puts Yesterday and Today separators before the first message of each day", () => {
    const items = buildTimeline([message("b", now - 60_000, true, "sent"), message("a", yesterday, false)], now, "en", t);
    expect(items.map((i) => (i.kind === "day" || i.kind === "unread" ? i.label : i.id))).toEqual(["Yesterday", "a", "Today", "b"]);
  });

  it("puts the unread line right above the first message unread when the chat opened, after its day", () => {
    const messages = [message("a", yesterday, false), message("b", now - 60_000, false), message("c", now - 30_000, false)];
    const labels = (unread: { id: string; count: number }) =>
      buildTimeline(messages, now, "en", t, undefined, unread).map((i) => (i.kind === "day" || i.kind === "unread" ? i.label : i.id));
    expect(labels({ id: "b", count: 2 })).toEqual(["Yesterday", "a", "Today", "2 unread messages", "b", "c"]);
    expect(labels({ id: "c", count: 1 })).toEqual(["Yesterday", "a", "Today", "b", "1 unread message", "c"]);
    expect(buildTimeline(messages, now, "zh-CN", translator("zh-CN"), undefined, { id: "b", count: 2 })).toContainEqual({ kind: "unread", key: "unread", label: "2 条未读消息" });
    expect(buildTimeline(messages, now, "en", t).some((i) => i.kind === "unread")).toBe(false);
  });

  it("shows one tick when sent, two when delivered, a clock while queued, and none on received messages", () => {
    const items = buildTimeline(
      [message("s", now - 3000, true, "sent"), message("d", now - 2000, true, "delivered"), message("q", now - 1000, true, "queued"), message("r", now, false, "delivered")],
      now,
      "en",
      t,
    ).filter((i) => i.kind === "message");
    expect(items.map((i) => i.kind === "message" && [i.tick, i.status, i.statusLabel])).toEqual([
      ["✓", "sent", "Sent"],
      ["✓✓", "delivered", "Delivered"],
      ["", "queued", "Waiting for connection"],
      ["", null, ""],
    ]);
  });

  it("names what a notice in a 1:1 says, as in a group, instead of an empty line", () => {
    const unreadable = { ...message("u", now, false), text: "", notice: { type: "unreadable" as const, by: "bob#im.bob.test" as never } };
    const [, item] = buildTimeline([unreadable], now, "en", t);
    expect(item).toMatchObject({ kind: "notice", text: "A message from bob could not be read" });
  });

  it("starts a new run when the sender changes or five minutes pass", () => {
    const items = buildTimeline(
      [message("1", now - 600_000, true), message("2", now - 590_000, true), message("3", now - 100_000, true), message("4", now - 90_000, false)],
      now,
      "en",
      t,
    ).flatMap((i) => (i.kind === "message" ? [i.startsRun] : []));
    expect(items).toEqual([true, false, true, true]);
  });
});

describe("chat list", () => {
  it("lists the chat with the newest message first and says how many are unread", () => {
    const rows = chatRows(
      [
        { id: "old", title: "carol#im.c.test", lastText: "hi", lastAt: yesterday, lastMine: false, unread: 0 },
        { id: "new", title: "bob#im.bob.test", lastText: "see you\nlater", lastAt: now - 1000, lastMine: true, unread: 2 },
        { id: "none", title: "dave#im.d.test", lastText: null, lastAt: null, lastMine: false, unread: 0 },
      ],
      "new",
      now,
      "en",
      t,
    );
    expect(rows.map((r) => [r.title, r.preview, r.unreadLabel, r.selected])).toEqual([
      ["bob#im.bob.test", "You: see you", "2 unread", true],
      ["carol#im.c.test", "hi", "", false],
      ["dave#im.d.test", "", "", false],
    ]);
    expect(rows[1]!.stamp).toBe("Yesterday");
    expect(rows[0]!.initial).toBe("B");
  });

  it("cuts a long preview at a word with an ellipsis", () => {
    const long = "word ".repeat(40);
    const preview = previewOf(long);
    expect(preview.length).toBeLessThanOrEqual(81);
    expect(preview.endsWith("word…")).toBe(true);
  });
});
