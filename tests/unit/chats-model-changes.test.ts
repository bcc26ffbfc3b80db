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
