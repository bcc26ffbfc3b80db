import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import type { ChatContext } from "../../ui/view-models/chat-context.js";
import { ChatsViewModel } from "../../ui/view-models/chats-model.js";
import { friendChats } from "../../ui/view-models/friend-chats.js";
import { translator } from "../../ui/i18n/translate.js";
import { syncAll, threeFriends } from "./group-world.js";

/** The chat list over a real client core, with nothing kept on the side (no stars, drafts, marks). */
function chatList(client: EmsgClient): ChatsViewModel {
  const records = { marked: async () => new Set<string>(), favorites: async () => [], draft: async () => "", keyMemory: async () => undefined, saveDraft: async () => undefined };
  const ctx = { client, records, locale: "en", t: translator("en"), link: "online", now: () => Date.now(), favoritesChanged: () => undefined, runExpiry: () => client.expire() };
  return new ChatsViewModel(ctx as unknown as ChatContext);
}

const texts = (list: ChatsViewModel) => list.conversation?.items.flatMap((item) => (item.kind === "message" ? [item.text] : [])) ?? [];

describe("two friends who write first at the same moment", () => {
  it("see one chat each, with both first messages, and what either writes next in it", { timeout: 60_000 }, async () => {
    const { alice, bob } = await threeFriends();
    // Neither has heard of the other's conversation when writing: each makes a 1:1 of their own.
    await alice.sendText(bob.address, "Hi Bob");
    await bob.sendText(alice.address, "Hi Alice");
    await alice.flush();
    await bob.flush();
    await syncAll(alice, bob);
    expect((await alice.conversations()).filter((c) => c.peer === bob.address)).toHaveLength(2);

    for (const [me, them] of [[alice, bob], [bob, alice]] as const) {
      const list = chatList(me);
      await list.load();
      const rows = list.rows.filter((r) => r.address === them.address);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.unread).toBe(1);
      expect(list.unreadTotal).toBe(1);
      list.open(rows[0]!.id);
      await expect.poll(() => texts(list)).toEqual(expect.arrayContaining(["Hi Bob", "Hi Alice"]));
      expect(texts(list)).toHaveLength(2);
      list.conversation!.seeNewest(true);
      await expect.poll(async () => (await me.conversations()).filter((c) => c.peer === them.address).map((c) => c.unread)).toEqual([0, 0]);
    }

    // Both write on in the chat they see; each reads the other's reply in that same chat, live.
    const [aliceList, bobList] = [chatList(alice), chatList(bob)];
    await Promise.all([aliceList.load(), bobList.load()]);
    aliceList.open(aliceList.rows.find((r) => r.address === bob.address)!.id);
    bobList.open(bobList.rows.find((r) => r.address === alice.address)!.id);
    await expect.poll(() => texts(aliceList)).toHaveLength(2);
    await expect.poll(() => texts(bobList)).toHaveLength(2);
    await bobList.conversation!.send("Shall we meet at 9?");
    await aliceList.conversation!.send("Yes, at the station");
    await alice.flush();
    await bob.flush();
    await syncAll(alice, bob);
    for (const list of [aliceList, bobList]) {
      await expect.poll(() => texts(list).toSorted()).toEqual(["Hi Alice", "Hi Bob", "Shall we meet at 9?", "Yes, at the station"]);
      expect(list.rows.filter((r) => !r.group)).toHaveLength(1);
    }
  });
});

describe("friendChats", () => {
  const summary = (conversation: string, created: number, extra: Partial<ConversationSummary> = {}): ConversationSummary => ({
    conversation,
    members: ["alice#a.test", "bob#b.test"] as Address[],
    peer: "bob#b.test" as Address,
    peerKey: "K1",
    kind: "direct",
    epoch: 1,
    lastHubSeq: 1,
    created,
    unread: 0,
    ...extra,
  });
  const last = (text: string, at: number) => ({ id: text, from: "bob#b.test" as Address, text, at, direction: "in" as const, status: "received" as const });

  it("shows a friend's 1:1s proven under one key as one chat, under the first made", () => {
    const chats = friendChats([
      summary("b.test/Y", 20, { unread: 2, last: last("newest", 300) }),
      summary("a.test/X", 10, { unread: 1, last: last("older", 100) }),
    ]);
    expect(chats.chats).toHaveLength(1);
    expect(chats.chats[0]).toMatchObject({ conversation: "a.test/X", unread: 3, last: { text: "newest" } });
    expect(chats.chatOf("b.test/Y")).toBe("a.test/X");
    expect(chats.shownIn("a.test/X")).toEqual(["a.test/X", "b.test/Y"]);
  });

  it("keeps apart an address's 1:1 under another key, one refused as unsafe, and groups", () => {
    const chats = friendChats([
      summary("a.test/X", 10),
      summary("a.test/NEWKEY", 20, { peerKey: "K2" }),
      summary("a.test/IMPOSTOR", 30, { unsafe: "not who they claim" }),
      summary("a.test/G", 40, { kind: "group", peer: undefined, peerKey: undefined }),
    ]);
    expect(chats.chats.map((c) => c.conversation).sort()).toEqual(["a.test/G", "a.test/IMPOSTOR", "a.test/NEWKEY", "a.test/X"]);
    expect(chats.chatOf("a.test/NEWKEY")).toBe("a.test/NEWKEY");
  });
});
