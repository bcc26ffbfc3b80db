import { describe, expect, it, vi } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { translator } from "../../ui/i18n/translate.js";
import { chatRows, chatSummary } from "../../ui/view-models/chat-list.js";
import { syncAll, threeFriends, tripGroup } from "./group-world.js";

const DAY = 86_400_000;
const notices = async (client: EmsgClient, chat: string) =>
  (await client.history(chat)).filter((m) => m.notice?.type === "timer").map((m) => ({ by: m.notice!.by, days: m.notice!.days }));
const texts = async (client: EmsgClient, chat: string) => (await client.history(chat)).filter((m) => !m.notice).map((m: MessageRecord) => m.text);

describe("a chat's disappearing-messages timer, told to everyone in it (PROTOCOL §8.1 timer)", () => {
  it("reaches the friend as a notice and a setting, and each text carries it so the friend deletes it on time", { timeout: 60_000 }, async () => {
    const { world, alice, bob } = await threeFriends();
    // Both keep messages forever by their account's setting: only the chat's timer deletes here.
    for (const who of [alice, bob]) await world.storeOf(who).put("settings", { strangers: "accept", retentionDays: null });
    await alice.sendText(bob.address, "hello before any timer");
    await alice.flush();
    await bob.sync();
    await alice.setChatRetention(bob.address, 1);
    await alice.flush();
    await bob.sync();
    expect(await bob.chatRetention(alice.address)).toBe(1);
    expect(await notices(bob, alice.address)).toEqual([{ by: alice.address, days: 1 }]);
    expect(await notices(alice, bob.address)).toEqual([{ by: alice.address, days: 1 }]);

    const sent = await alice.sendText(bob.address, "gone in a day");
    await alice.flush();
    await bob.sync();
    const got = (await bob.history(alice.address)).find((m) => m.id === sent.id)!;
    expect(got.expiresAt).toBe(sent.at + DAY);
    expect(bob.nextExpiry).toBeLessThanOrEqual(sent.at + DAY);

    // Bob then keeps this chat forever: Alice is told, but the text keeps the timer it was sent with.
    await bob.setChatRetention(alice.address, null);
    await bob.flush();
    await alice.sync();
    expect(await alice.chatRetention(bob.address)).toBeNull();
    expect(await notices(alice, bob.address)).toEqual([{ by: alice.address, days: 1 }, { by: bob.address, days: null }]);
    expect(await bob.expire(sent.at + DAY - 1)).toEqual([]);
    expect(await bob.expire(sent.at + DAY + 1)).toEqual([sent.id]);
    expect(await texts(bob, alice.address)).toEqual(["hello before any timer"]);
    expect(await alice.expire(sent.at + DAY + 1)).toEqual([sent.id]);
  });

  it("shows a 1:1 whose first item is its timer with the timer as its last line in the chat list, on both sides", { timeout: 60_000 }, async () => {
    const { alice, bob } = await threeFriends();
    const t = translator("en");
    const preview = async (client: EmsgClient) => {
      const summaries = (await client.conversations()).map((c) => chatSummary(c, client.address));
      return chatRows(summaries, null, Date.now(), "en", t).map((row) => row.preview);
    };
    await alice.setChatRetention(bob.address, 1);
    await alice.flush();
    await bob.sync();
    expect(await preview(alice)).toEqual(["Disappearing messages: 1 day"]);
    expect(await preview(bob)).toEqual(["Disappearing messages: 1 day"]);
    await bob.setChatRetention(alice.address, null);
    await bob.flush();
    await alice.sync();
    expect(await preview(alice)).toEqual(["Disappearing messages: off"]);
    expect(await preview(bob)).toEqual(["Disappearing messages: off"]);
    // A text after it is the last line again.
    await alice.sendText(bob.address, "kept for good, then");
    await alice.flush();
    await bob.sync();
    expect(await preview(alice)).toEqual(["You: kept for good, then"]);
    expect(await preview(bob)).toEqual(["kept for good, then"]);
  });

  it("of two timers set in the same millisecond, both sides keep the same one", { timeout: 60_000 }, async () => {
    const { alice, bob } = await threeFriends();
    await alice.sendText(bob.address, "hi");
    await alice.flush();
    await bob.sync();
    const clock = vi.spyOn(Date, "now").mockReturnValue(Date.now());
    await bob.setChatRetention(alice.address, 7);
    await alice.setChatRetention(bob.address, 30);
    clock.mockRestore();
    await bob.flush();
    await alice.flush();
    await syncAll(alice, bob);
    expect(await alice.chatRetention(bob.address)).toBe(await bob.chatRetention(alice.address));
  });

  it("of two timers set at once, the later holds on both sides, whichever arrives last", { timeout: 60_000 }, async () => {
    const { alice, bob } = await threeFriends();
    await alice.sendText(bob.address, "hi");
    await alice.flush();
    await bob.sync();
    await bob.setChatRetention(alice.address, 7);
    // Alice's timer is sent before Bob's reaches her, with an earlier clock reading: Bob's, the later, holds on both sides.
    await alice.setChatRetention(bob.address, 30);
    const aliceTimer = (await alice.history(bob.address)).find((m) => m.notice?.type === "timer")!;
    expect(aliceTimer.at).toBeLessThanOrEqual(Date.now());
    await bob.flush();
    await alice.flush();
    await syncAll(alice, bob);
    const bobTimer = (await bob.history(alice.address)).find((m) => m.notice?.by === bob.address)!;
    // Set in the same millisecond, the greater content id holds, on both sides alike.
    const newest = bobTimer.at > aliceTimer.at || (bobTimer.at === aliceTimer.at && bobTimer.id > aliceTimer.id) ? 7 : 30;
    expect([await alice.chatRetention(bob.address), await bob.chatRetention(alice.address)]).toEqual([newest, newest]);
  });

  it("tells the friend the sender's own retention with each text; an expiry pass then reads only what is due", { timeout: 60_000 }, async () => {
    const { world, alice, bob } = await threeFriends();
    await world.storeOf(alice).put("settings", { strangers: "accept", retentionDays: 7 });
    await world.storeOf(bob).put("settings", { strangers: "accept", retentionDays: null });
    const sent = await alice.sendText(bob.address, "a week is enough");
    await alice.flush();
    await bob.sync();
    expect((await bob.history(alice.address)).find((m) => m.id === sent.id)?.expiresAt).toBe(sent.at + 7 * DAY);
    // Bob keeps everything by his own settings, and no chat of his has a timer: only timed texts can go.
    const lists = vi.spyOn(world.storeOf(bob), "list");
    expect(await bob.expire(sent.at + 7 * DAY - 1)).toEqual([]);
    expect(bob.nextExpiry).toBe(sent.at + 7 * DAY);
    expect(await bob.expire(sent.at + 7 * DAY + 1)).toEqual([sent.id]);
    expect(lists.mock.calls.map(([prefix]) => prefix)).not.toContain("msg/");
    expect(bob.nextExpiry).toBeUndefined();
  });

  it("cannot make a friend's device keep messages longer than its owner chose", { timeout: 60_000 }, async () => {
    const { world, alice, bob } = await threeFriends();
    await world.storeOf(alice).put("settings", { strangers: "accept", retentionDays: null });
    await world.storeOf(bob).put("settings", { strangers: "accept", retentionDays: 7 });
    await bob.sendText(alice.address, "from bob, kept a week on his side");
    await bob.flush();
    await alice.sync();
    await alice.setChatRetention(bob.address, null);
    await alice.flush();
    await bob.sync();
    // Bob is told Alice keeps the chat forever; his own week still holds on his device.
    expect(await notices(bob, alice.address)).toEqual([{ by: alice.address, days: null }]);
    await bob.expire(Date.now() + 8 * DAY);
    expect(await texts(bob, alice.address)).toEqual([]);
    // Alice keeps it: her own choice, and Bob's text carried his week, so it goes on her side too.
    expect(await alice.expire(Date.now() + 6 * DAY)).toEqual([]);
    expect(await alice.expire(Date.now() + 8 * DAY)).toHaveLength(1);
  });

  it("applies to every member of a group", { timeout: 60_000 }, async () => {
    const { alice, bob, carol, conversation } = await tripGroup();
    await bob.setChatRetention(conversation, 7);
    await bob.flush();
    await syncAll(alice, carol);
    for (const who of [alice, carol]) {
      expect(await who.chatRetention(conversation)).toBe(7);
      expect(await notices(who, conversation)).toEqual([{ by: bob.address, days: 7 }]);
    }
    const sent = await carol.sendText(conversation, "see you all");
    await carol.flush();
    await syncAll(alice, bob);
    for (const who of [alice, bob]) expect((await who.history(conversation)).find((m) => m.id === sent.id)?.expiresAt).toBe(sent.at + 7 * DAY);
  });

  it("cannot be fixed for good by a member whose timer claims a time to come: a later change still holds", { timeout: 60_000 }, async () => {
    const { alice, bob, carol, conversation } = await tripGroup();
    // Bob's device says its timer was set a century from now.
    const now = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(now + 36_500 * DAY);
    await bob.setChatRetention(conversation, 1);
    clock.mockRestore();
    await bob.flush();
    await syncAll(alice, carol);
    expect(await carol.chatRetention(conversation)).toBe(1);
    await alice.setChatRetention(conversation, 30);
    await alice.flush();
    await syncAll(bob, carol);
    expect(await carol.chatRetention(conversation)).toBe(30);
    // Shown where it arrived, not below everything said for a century.
    const timers = (await carol.history(conversation)).filter((m) => m.notice?.type === "timer");
    expect(timers.map((m) => m.notice!.by)).toEqual([bob.address, alice.address]);
    expect(Math.max(...timers.map((m) => m.at))).toBeLessThanOrEqual(Date.now());
  });
});
