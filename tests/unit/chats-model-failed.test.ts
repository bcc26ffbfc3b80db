import { describe, expect, it, vi } from "vitest";
import type { Address } from "../../shared/address.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { EmsgError } from "../../shared/errors.js";
import { translator } from "../../ui/i18n/translate.js";
import { chatRows, chatSummary } from "../../ui/view-models/chat-list.js";
import { ChatsViewModel } from "../../ui/view-models/chats-model.js";
import type { ConversationSummary } from "../../ui/view-models/core-types.js";
import { chatContext } from "./chat-context.js";
import { GroupWorld, tripGroup } from "./group-world.js";

// A chat whose last line is our message that failed to send says so in the chat list ("!" and
// "Not delivered" before the preview, as the message itself does), until it is retried.

async function chatList(client: EmsgClient): Promise<ChatsViewModel> {
  const list = new ChatsViewModel(chatContext(client));
  await list.load();
  return list;
}

const rowOf = (list: ChatsViewModel, id: string) => list.rows.find((r) => r.id === id)!;

/** Every submission to a hub refused for good (`forbidden`) until the returned function is called. */
function hubRefuses(world: GroupWorld): () => void {
  const spy = vi.spyOn(world, "submit").mockImplementation(() => {
    throw new EmsgError("forbidden", "Not a member.");
  });
  return () => spy.mockRestore();
}

describe("a chat row whose last message is ours", () => {
  const alice = "alice#im.alice.test" as Address;
  const bob = "bob#im.bob.test" as Address;
  const row = (last: NonNullable<ConversationSummary["last"]>) =>
    chatRows([chatSummary({ conversation: "im.alice.test/d", members: [alice, bob], peer: bob, kind: "direct", epoch: 1, lastHubSeq: 0, created: 1, unread: 0, last } as ConversationSummary, alice)], null, 10, "en", translator("en"))[0]!;

  it("says Not delivered when it failed, and only then", () => {
    const mine = { id: "m", from: alice, text: "hi", at: 5, direction: "out", status: "failed" } as const;
    expect(row(mine)).toMatchObject({ failedLabel: "Not delivered", preview: "You: hi" });
    expect(row({ ...mine, status: "sent" }).failedLabel).toBe("");
    expect(row({ ...mine, status: "sending" }).failedLabel).toBe("");
    expect(row({ ...mine, from: bob, direction: "in", status: "received" }).failedLabel).toBe("");
  });
});

describe("the chat list when our last message failed to send", { timeout: 60_000 }, () => {
  it("marks the group's row Not delivered, read anew too, and no more once it is retried and sent", async () => {
    const { world, alice, conversation } = await tripGroup();
    const list = await chatList(alice);
    const allow = hubRefuses(world);
    const sent = await alice.sendText(conversation, "who brings the tent?");
    await alice.flush();
    expect(rowOf(list, conversation)).toMatchObject({ failedLabel: "Not delivered", preview: "You: who brings the tent?" });
    expect(rowOf(await chatList(alice), conversation).failedLabel).toBe("Not delivered");
    allow();

    await alice.retryMessage(sent.id);
    expect(rowOf(list, conversation).failedLabel).toBe("");
    await alice.flush();
    expect(rowOf(list, conversation).failedLabel).toBe("");
    expect(rowOf(await chatList(alice), conversation).failedLabel).toBe("");
  });

  it("marks the row when the send was refused by a flush that waited for its turn before the message was written", async () => {
    const { world, alice, conversation } = await tripGroup();
    const list = await chatList(alice);
    // Alice's sync holds the client's turn, waiting for her mailbox, while she writes; its flush then sends the text.
    const serve = world.transport.fetch;
    let polled!: () => void;
    const polling = new Promise<void>((resolve) => (polled = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    world.transport.fetch = async (url, request) => {
      if (new URL(url).pathname.endsWith("/mailbox")) {
        world.transport.fetch = serve;
        polled();
        await held;
      }
      return serve(url, request);
    };
    const syncing = alice.sync();
    await polling;
    const allow = hubRefuses(world);
    await alice.sendText(conversation, "are we still on?");
    release();
    await syncing;
    await alice.idle();
    allow();
    expect(rowOf(list, conversation)).toMatchObject({ failedLabel: "Not delivered", preview: "You: are we still on?" });
  });

  it("marks a friend's chat whose first message failed before its conversation was made, and no more on Retry", async () => {
    const world = new GroupWorld();
    const alice = await world.person("alice#im.alice.test");
    const bob = await world.person("bob#im.bob.test");
    await world.befriend(alice, bob);
    // Bob's server refuses Alice's claim of his KeyPackages: the chat cannot be made, for good.
    const serve = world.transport.fetch;
    let refuse = true;
    world.transport.fetch = async (url, request) =>
      refuse && url.endsWith("/directory/claim") ? { status: 403, text: async () => JSON.stringify(new EmsgError("forbidden").toJSON()) } : serve(url, request);
    const list = await chatList(alice);
    const sent = await alice.sendText(bob.address, "hello?");
    await alice.flush();
    const chat = `@${bob.address}`;
    expect(rowOf(list, chat)).toMatchObject({ failedLabel: "Not delivered", preview: "You: hello?" });
    expect(rowOf(await chatList(alice), chat).failedLabel).toBe("Not delivered");

    refuse = false;
    await alice.retryMessage(sent.id);
    expect(rowOf(list, chat).failedLabel).toBe("");
    await alice.flush();
    const conversation = (await alice.conversations())[0]!.conversation;
    expect(rowOf(list, conversation)).toMatchObject({ failedLabel: "", preview: "You: hello?" });
  });

  it("shows a friend's chat waiting for its conversation anew at once when its failed last message is deleted, and drops it with the last one", async () => {
    const world = new GroupWorld();
    const alice = await world.person("alice#im.alice.test");
    const bob = await world.person("bob#im.bob.test");
    await world.befriend(alice, bob);
    // Bob's server refuses Alice's claim of his KeyPackages: the chat cannot be made, for good.
    const serve = world.transport.fetch;
    world.transport.fetch = async (url, request) =>
      url.endsWith("/directory/claim") ? { status: 403, text: async () => JSON.stringify(new EmsgError("forbidden").toJSON()) } : serve(url, request);
    const list = await chatList(alice);
    const first = await alice.sendText(bob.address, "hello?");
    await alice.flush();
    const second = await alice.sendText(bob.address, "anyone there?");
    await alice.flush();
    const chat = `@${bob.address}`;
    expect(rowOf(list, chat)).toMatchObject({ failedLabel: "Not delivered", preview: "You: anyone there?" });

    await alice.deleteFailed(second.id);
    expect(rowOf(list, chat)).toMatchObject({ failedLabel: "Not delivered", preview: "You: hello?" });
    await alice.deleteFailed(first.id);
    expect(list.rows.map((r) => r.id)).not.toContain(chat);
    expect((await chatList(alice)).rows.map((r) => r.id)).not.toContain(chat);
  });
});
