import { describe, expect, it } from "vitest";
import { asAddress } from "../../shared/address.js";
import { newReaction } from "../../shared/content.js";
import { randomId16 } from "../../shared/ids.js";
import type { CoreContext } from "../../shared/client/context.js";
import type { ConversationRecord } from "../../shared/client/conversation-record.js";
import { Emitter } from "../../shared/client/events.js";
import { cleanHeld, HELD_MAX_AGE_MS, HELD_MAX_PER_CONVERSATION, readChange } from "../../shared/client/message-changes.js";
import { MemoryStore } from "../../shared/client/store.js";

const DAY = 86_400_000;
const bob = asAddress("bob#im.bob.test");

function world(start: number) {
  let now = start;
  const store = new MemoryStore();
  const ctx = { store, clock: { now: () => now }, events: new Emitter() } as unknown as CoreContext;
  const record = (conversation: string, extra: Partial<ConversationRecord> = {}): ConversationRecord => ({
    conversation, members: [bob], group: "", epoch: 1, lastHubSeq: 0, created: start, unread: 0, ...extra,
  });
  // A reaction by Bob to a message this device never got: it is held for when the message comes.
  const reactToMissing = (conversation: ConversationRecord) => readChange(ctx, conversation, newReaction(randomId16(), "👍", "add", now), bob);
  return { store, ctx, record, reactToMissing, later: (ms: number) => (now += ms), now: () => now };
}

describe("changes held for a message that has not come", () => {
  it("keeps at most the bound per conversation, dropping the oldest", async () => {
    const w = world(Date.now());
    const chat = w.record("im.bob.test/c1");
    await w.store.put("conv/im.bob.test/c1", chat);
    const first = newReaction(randomId16(), "🎉", "add", w.now());
    await readChange(w.ctx, chat, first, bob);
    for (let i = 0; i < HELD_MAX_PER_CONVERSATION; i++) {
      w.later(1);
      await w.reactToMissing(chat);
    }
    const held = await w.store.list<{ change: { of: string } }>("held/");
    expect(held).toHaveLength(HELD_MAX_PER_CONVERSATION);
    expect(held.some(([, h]) => h.change.of === first.of)).toBe(false);
  });

  it("drops them when they are too old, or their conversation is left or gone", async () => {
    const w = world(Date.now());
    const [open, left, gone] = [w.record("im.bob.test/open"), w.record("im.bob.test/left", { left: true }), w.record("im.bob.test/gone")];
    await w.store.put("conv/im.bob.test/open", open);
    await w.store.put("conv/im.bob.test/left", left);
    await w.reactToMissing(open);
    w.later(HELD_MAX_AGE_MS - DAY);
    await w.reactToMissing(open);
    await w.reactToMissing(left);
    await w.reactToMissing(gone);
    expect(await w.store.list("held/")).toHaveLength(4);
    // The first one is now past the bound; the left group's and the unknown one's never apply.
    expect(await cleanHeld(w.ctx, w.later(2 * DAY))).toBe(3);
    const kept = await w.store.list("held/");
    expect(kept.map(([key]) => key.split("/").slice(1, 3).join("/"))).toEqual(["im.bob.test/open"]);
  });
});
