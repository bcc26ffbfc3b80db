import { describe, expect, it, vi } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ChatContext } from "../../ui/view-models/chat-context.js";
import { ChatsViewModel } from "../../ui/view-models/chats-model.js";
import { translator } from "../../ui/i18n/translate.js";
import { tripGroup } from "./group-world.js";

/** The chat list over a real client core, with nothing kept on the side (no stars, drafts, marks). */
function chatList(client: EmsgClient): ChatsViewModel {
  const records = { marked: async () => new Set<string>(), favorites: async () => [], draft: async () => "", keyMemory: async () => undefined };
  const ctx = { client, records, locale: "en", t: translator("en"), link: "online", now: () => Date.now(), favoritesChanged: () => undefined, runExpiry: () => client.expire() };
  return new ChatsViewModel(ctx as unknown as ChatContext);
}

describe("the chat list's first load", () => {
  it("keeps a message that arrived while the list was being read, with its unread count", { timeout: 60_000 }, async () => {
    const { alice, bob, conversation } = await tripGroup();
    const list = chatList(bob);
    // The listing is read, then Alice's message arrives before the list has taken it in: the
    // list must not put back the older listing over what the arrival told it.
    const listing = bob.conversations.bind(bob);
    bob.conversations = async () => {
      const read = await listing();
      await alice.sendText(conversation, "the train leaves at 9");
      await alice.flush();
      await bob.sync();
      return read;
    };
    await list.load();
    const row = list.rows.find((r) => r.id === conversation);
    expect(row?.unread).toBe(1);
    expect(row?.preview).toContain("the train leaves at 9");
    expect(list.unreadTotal).toBe(1);
  });
});

/**
 * Opens the chat while the core cannot read its history, until the failure is logged; resolves
 * with what lets the history be read again.
 */
async function openUnreadable(list: ChatsViewModel, client: EmsgClient, conversation: string): Promise<() => void> {
  const history = client.history.bind(client);
  let failing = true;
  client.history = async (target, options) => {
    if (failing) throw new Error("the store could not be read");
    return history(target, options);
  };
  const warned = vi.spyOn(console, "warn").mockImplementation(() => undefined);
  list.open(conversation);
  await vi.waitFor(() => expect(warned).toHaveBeenCalledWith(expect.stringContaining("the chat is empty until it changes or is opened again")));
  warned.mockRestore();
  expect(list.conversation?.items).toEqual([]);
  return () => (failing = false);
}

const shows = (list: ChatsViewModel, text: string) => list.conversation?.items.some((item) => item.kind === "message" && item.text === text);

describe("a chat whose history could not be read", () => {
  it("is read anew when it is opened again", { timeout: 60_000 }, async () => {
    const { alice, bob, conversation } = await tripGroup();
    await alice.sendText(conversation, "see you at the station");
    await alice.flush();
    await bob.sync();
    const list = chatList(bob);
    await list.load();
    const readable = await openUnreadable(list, bob, conversation);
    readable();
    list.open(conversation);
    await vi.waitFor(() => expect(shows(list, "see you at the station")).toBe(true));
  });

  it("is read anew when a message comes to it", { timeout: 60_000 }, async () => {
    const { alice, bob, conversation } = await tripGroup();
    const list = chatList(bob);
    await list.load();
    const readable = await openUnreadable(list, bob, conversation);
    readable();
    await alice.sendText(conversation, "platform 4");
    await alice.flush();
    await bob.sync();
    await vi.waitFor(() => expect(shows(list, "platform 4")).toBe(true));
  });
});
