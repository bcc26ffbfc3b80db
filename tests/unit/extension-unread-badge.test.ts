import { describe, expect, it, vi } from "vitest";
import type { ClientService } from "../../extension/background/client-service.js";
import { badgeText, showUnreadBadge } from "../../extension/background/unread-badge.js";
import { Emitter } from "../../shared/client/events.js";
import type { ClientEvents } from "../../shared/client/index.js";

/** A background with chats whose unread counts the test sets, and the badge texts it was given. */
function background(unread: number[]) {
  const events = new Emitter<ClientEvents>();
  const chats = { unread };
  const service = {
    ready: async () => true,
    onChange: () => () => undefined,
    client: { on: events.on.bind(events), conversations: async () => chats.unread.map((n) => ({ unread: n })) },
  } as unknown as ClientService;
  const shown: string[] = [];
  showUnreadBadge(service, async (text) => void shown.push(text));
  return { shown, chats, changed: () => events.emit("conversation", {} as ClientEvents["conversation"]) };
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
});
