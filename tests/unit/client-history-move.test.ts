import { describe, expect, it } from "vitest";
import { readAccountArchive } from "../../shared/account-archive.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { syncAll, tripGroup } from "./group-world.js";
import type { ChatContext } from "../../ui/view-models/chat-context.js";
import { ChatsViewModel } from "../../ui/view-models/chats-model.js";
import { translator } from "../../ui/i18n/translate.js";

/** The chat list over a real client core, with nothing kept on the side (no stars, drafts, marks). */
function chatList(client: EmsgClient): ChatsViewModel {
  const records = { marked: async () => new Set<string>(), favorites: async () => [], draft: async () => "", keyMemory: async () => undefined };
  const ctx = { client, records, locale: "en", t: translator("en"), link: "online", now: () => Date.now(), favoritesChanged: () => undefined, runExpiry: () => client.expire() };
  return new ChatsViewModel(ctx as unknown as ChatContext);
}

const PASS = "correct horse battery staple";
const lines = async (client: EmsgClient, chat: string) =>
  (await client.history(chat)).filter((m) => !m.notice).map((m) => `${m.direction === "out" ? "me" : m.from.split("#")[0]}: ${m.text}`);

describe("chat history moves with the account (PROTOCOL §11)", () => {
  it("shows the old 1:1 in the new account's chat with the same friend, and an old group read-only", { timeout: 90_000 }, async () => {
    const { world, alice, bob, conversation } = await tripGroup();
    await alice.sendText(bob.address, "lunch on friday?");
    await alice.flush();
    await bob.sync();
    await bob.sendText(alice.address, "yes, at noon");
    const gone = await alice.sendText(conversation, "to be deleted");
    await alice.sendText(conversation, "tickets are booked");
    await bob.flush();
    await alice.deleteForEveryone(gone.id);
    await alice.flush();
    await syncAll(alice);
    await world.storeOf(alice).put("settings", { strangers: "accept", retentionDays: null });

    const file = await alice.exportAccount(PASS, { N: 1024 });
    const contents = await readAccountArchive(JSON.stringify(file), PASS);
    // The history travels sealed under the passphrase, not as anything readable in the file.
    expect(JSON.stringify(file)).not.toContain("lunch");
    // Group notices and the message deleted for everyone stay behind.
    expect(Object.fromEntries(contents.history!.map((c) => [c.chat, c.messages.map((m) => m.text)]))).toEqual({
      [conversation]: ["tickets are booked"],
      [bob.address]: ["lunch on friday?", "yes, at noon"],
    });

    // Alice moves to a new address; her device there holds that account already.
    const moved = await world.person("alice2#im.alice.test");
    await moved.importAccount(file, PASS);
    expect(await lines(moved, bob.address)).toEqual(["me: lunch on friday?", "bob: yes, at noon"]);
    expect(await lines(moved, conversation)).toEqual(["me: tickets are booked"]);
    expect((await moved.movedHistories()).map((c) => [c.chat, c.title, c.messages]).sort()).toEqual([[bob.address, undefined, 2], [conversation, "Trip", 1]].sort());
    expect((await moved.search("noon")).map((m) => m.text)).toEqual(["yes, at noon"]);
    // The group, not joined again, is listed as a chat left: its history is there to read.
    const listed = (await moved.conversations()).filter((c) => c.conversation === conversation);
    expect(listed).toMatchObject([{ kind: "group", title: "Trip", left: true, last: { text: "tickets are booked", direction: "out" } }]);
    await moved.markRead(conversation);
    // Bob's chat is listed before any new conversation with him exists, and opens as the chat with him;
    // it began when its first moved message was written (kept when it came, not read again each time).
    const lunch = contents.history!.find((c) => c.chat === bob.address)!.messages[0]!;
    expect((await moved.conversations()).filter((c) => c.peer === bob.address)).toMatchObject([{ conversation: `@${bob.address}`, created: lunch.at, last: { text: "yes, at noon" } }]);
    expect((await moved.movedHistories()).find((c) => c.chat === bob.address)?.firstAt).toBe(lunch.at);
    // A record kept before firstAt was: the chat's messages tell it.
    const kept = world.storeOf(moved);
    await kept.put("moved-chats", (await moved.movedHistories()).map(({ firstAt: _firstAt, ...rest }) => rest));
    expect((await moved.movedHistories()).map((c) => c.firstAt)).toEqual([undefined, undefined]);
    expect((await moved.conversations()).find((c) => c.peer === bob.address)?.created).toBe(lunch.at);
    const list = chatList(moved);
    await list.load();
    expect(list.rows.map((r) => r.id).sort()).toEqual([`@${bob.address}`, conversation].sort());
    list.open(`@${bob.address}`);
    expect([list.conversation?.conversation, list.conversation?.peer]).toEqual([null, bob.address]);
    await expect.poll(() => list.conversation!.items.filter((i) => i.kind === "message").length).toBe(2);
    // The archive's words are its owner's record, not messages read here: each is marked as moved.
    expect(list.conversation!.items.flatMap((i) => (i.kind === "message" ? [i.moved] : []))).toEqual([true, true]);

    // The old group opens with its moved words, read-only, saying why nothing can be written there.
    list.open(conversation);
    await expect.poll(() => list.conversation!.items.flatMap((i) => (i.kind === "message" ? [i.text] : []))).toEqual(["tickets are booked"]);
    expect(list.group?.ending).toEqual({ key: "group.moved" });
    // A search hit in moved history opens its chat, not a chat named after where the words are kept.
    await list.search("tickets");
    expect(list.searchHits.map((h) => [h.chat, h.title])).toEqual([[conversation, "Trip"]]);
    await list.search("noon");
    expect(list.searchHits.map((h) => [h.chat, h.title])).toEqual([[`@${bob.address}`, bob.address]]);

    // Bob, told of the move, writes to the new address: the new conversation reads on after the old history.
    await world.befriend(moved, bob);
    await bob.sendText(moved.address, "welcome to your new address");
    await bob.flush();
    await moved.sync();
    expect(await lines(moved, bob.address)).toEqual(["me: lunch on friday?", "bob: yes, at noon", "bob: welcome to your new address"]);
    // The new conversation takes the listed chat's place: Bob is listed once.
    expect((await moved.conversations()).filter((c) => c.peer === bob.address).map((c) => c.conversation.startsWith("@"))).toEqual([false]);
    expect(list.rows.filter((r) => r.id.startsWith("@"))).toEqual([]);

    // Added back to the group, the new address finds its old words there, and the group listed once.
    await world.befriend(alice, moved);
    await alice.addToGroup(conversation, [moved.address]);
    await alice.sendText(conversation, "welcome back");
    await alice.flush();
    await syncAll(moved, moved);
    expect((await moved.conversations()).filter((c) => c.conversation === conversation)).toMatchObject([{ kind: "group" }]);
    expect((await moved.conversations()).find((c) => c.conversation === conversation)?.left).toBeUndefined();
    expect(await lines(moved, conversation)).toEqual(["me: tickets are booked", "alice: welcome back"]);
  });
});
