import { describe, expect, it, vi } from "vitest";
import type { Change, ClientService } from "../../extension/background/client-service.js";
import { badgeText, showUnreadBadge } from "../../extension/background/unread-badge.js";
import { Emitter } from "../../shared/client/events.js";
import type { ClientEvents } from "../../shared/client/index.js";

/** A background with group chats g0, g1… whose unread counts the test sets, the chats muted in the panel, and the badge texts it was given. */
function background(unread: number[]) {
  const events = new Emitter<ClientEvents>();
  const chats = { unread, muted: new Set<string>() };
  const changes = new Set<(change: Change) => void>();
  const service = {
    ready: async () => true,
    onChange: (listener: (change: Change) => void) => (changes.add(listener), () => changes.delete(listener)),
    client: { on: events.on.bind(events), conversations: async () => chats.unread.map((n, i) => ({ conversation: `g${i}`, kind: "group", created: i, unread: n })) },
  } as unknown as ClientService;
  const shown: string[] = [];
  showUnreadBadge(service, { marked: async () => new Set(chats.muted) }, async (text) => void shown.push(text));
  return {
    shown,
    chats,
    changed: () => events.emit("conversation", {} as ClientEvents["conversation"]),
    marksChanged: () => changes.forEach((listener) => listener("marks")),
  };
}

describe("the extension's toolbar badge", () => {
  it("says nothing at none, the count up to 99, then 99+", () => {
    expect([0, 1, 42, 99, 100].map(badgeText)).toEqual(["", "1", "42", "99", "99+"]);
  });

  it("shows the total unread of every chat at start, and again as chats change", async () => {
    vi.useFakeTimers();
    try {
      const { shown, chats, changed } = background([2, 0, 3]);
      await vi.runAllTimersAsync();
      expect(shown).toEqual(["5"]);
      chats.unread = [3, 0, 3];
      changed();
      changed();
      await vi.runAllTimersAsync();
      chats.unread = [0, 0, 0];
      changed();
      await vi.runAllTimersAsync();
      expect(shown).toEqual(["5", "6", ""]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("leaves muted chats out, and counts again when a chat is muted or unmuted", async () => {
    vi.useFakeTimers();
    try {
      const { shown, chats, marksChanged } = background([2, 4, 3]);
      await vi.runAllTimersAsync();
      chats.muted.add("g1");
      marksChanged();
      await vi.runAllTimersAsync();
      chats.muted.delete("g1");
      chats.muted.add("g0");
      marksChanged();
      await vi.runAllTimersAsync();
      expect(shown).toEqual(["9", "5", "7"]);
    } finally {
      vi.useRealTimers();
    }
  });
});
