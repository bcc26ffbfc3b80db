import { describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { ChatsViewModel } from "../../ui/view-models/chats-model.js";
import { chatContext } from "./chat-context.js";
import { syncAll, tripGroup } from "./group-world.js";

// The chat list over real client cores when messages already sent are edited or deleted for everyone.

async function chatList(client: EmsgClient): Promise<ChatsViewModel> {
  const list = new ChatsViewModel(chatContext(client));
  await list.load();
  return list;
}

const rowOf = (list: ChatsViewModel, conversation: string) => list.rows.find((r) => r.id === conversation)!;

describe("the chat list after a message is deleted for everyone", { timeout: 60_000 }, () => {
  it("says the last message was deleted, on the sender's side and on the others'", async () => {
    const { alice, bob, carol, conversation } = await tripGroup();
    const mine = await chatList(alice);
    const theirs = await chatList(bob);
    const last = await alice.sendText(conversation, "meet at 6");
    await alice.flush();
    await syncAll(bob, carol);
    await alice.deleteForEveryone(last.id);
    await alice.flush();
    await syncAll(bob, carol);
    expect(rowOf(mine, conversation).preview).toBe("You deleted this message");
    expect(rowOf(theirs, conversation).preview).toMatch(/^alice.*: This message was deleted$/);
    // As the list reads it anew (the app started again).
    expect(rowOf(await chatList(bob), conversation).preview).toMatch(/: This message was deleted$/);
  });
});

describe("the unread count when messages change before they are read", { timeout: 60_000 }, () => {
  it("counts neither an edit nor a message deleted for everyone: on the row, and in the total the tab and page title show", async () => {
    const { alice, bob, carol, conversation } = await tripGroup();
    const list = await chatList(bob);
    // While Bob is away, Alice sends two, edits one, deletes the other and sends one more.
    const edited = await alice.sendText(conversation, "meet at 5");
    const deleted = await alice.sendText(conversation, "bring the tent");
    await alice.editMessage(edited.id, "meet at 6");
    await alice.deleteForEveryone(deleted.id);
    await alice.sendText(conversation, "see you there");
    await alice.flush();
    await syncAll(bob, carol);
    expect(rowOf(list, conversation).unread).toBe(2);
    expect(list.unreadTotal).toBe(2);
  });

  it("takes back the count of an unread message deleted later, though it was not the chat's last", async () => {
    const { alice, bob, carol, conversation } = await tripGroup();
    const list = await chatList(bob);
    const deleted = await alice.sendText(conversation, "bring the tent");
    await alice.sendText(conversation, "see you there");
    await alice.flush();
    await syncAll(bob, carol);
    expect(rowOf(list, conversation).unread).toBe(2);
    await alice.deleteForEveryone(deleted.id);
    await alice.flush();
    await syncAll(bob, carol);
    expect(rowOf(list, conversation).unread).toBe(1);
    expect(rowOf(list, conversation).preview).toContain("see you there");
    expect(list.unreadTotal).toBe(1);
  });

  it("leaves the count as it is when a message read already is deleted", async () => {
    const { alice, bob, carol, conversation } = await tripGroup();
    const list = await chatList(bob);
    const read = await alice.sendText(conversation, "bring the tent");
    await alice.flush();
    await syncAll(bob, carol);
    await bob.markRead(conversation);
    await alice.sendText(conversation, "see you there");
    await alice.deleteForEveryone(read.id);
    await alice.flush();
    await syncAll(bob, carol);
    expect(rowOf(list, conversation).unread).toBe(1);
  });
});

describe("the unread total of muted chats", { timeout: 60_000 }, () => {
  it("leaves a muted chat's unread out of the total the tab and page title show; the row still counts them", async () => {
    const { alice, bob, carol, conversation } = await tripGroup();
    const list = await chatList(bob);
    await alice.sendText(conversation, "meet at 5");
    await alice.sendText(conversation, "bring the tent");
    await alice.flush();
    await syncAll(bob, carol);
    expect(list.unreadTotal).toBe(2);
    await list.toggleMuted(conversation);
    expect(rowOf(list, conversation)).toMatchObject({ unread: 2, muted: true });
    expect(list.unreadTotal).toBe(0);
    await list.toggleMuted(conversation);
    expect(list.unreadTotal).toBe(2);
  });
});
