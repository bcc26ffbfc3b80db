import { describe, expect, it, vi } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { EmsgError } from "../../shared/errors.js";
import type { MailItem } from "../../shared/wire/mail.js";
import { translator } from "../../ui/i18n/translate.js";
import { ConversationViewModel } from "../../ui/view-models/conversation-model.js";
import type { TimelineItem } from "../../ui/view-models/timeline.js";
import { chatContext } from "./chat-context.js";
import { type GroupWorld, record, tripGroup } from "./group-world.js";

// What the chat screen of both clients (the PWA and the extension's side panel share this view
// model) shows for a message of ours that failed to send: why, in the person's language, and Retry
// where it can work, and Delete.

type MessageItem = Extract<TimelineItem, { kind: "message" }>;

async function openChat(client: EmsgClient, conversation: string, locale: "en" | "zh-CN" = "en"): Promise<ConversationViewModel> {
  const chat = new ConversationViewModel({ ...chatContext(client), locale, t: translator(locale) }, conversation, null, "Trip");
  await chat.load();
  return chat;
}

const item = (chat: ConversationViewModel, text: string) => chat.items.find((i): i is MessageItem => i.kind === "message" && i.text === text);

/** Alice's text into the trip group, refused for good by the hub (`forbidden`). */
async function refusedText(world: GroupWorld, alice: EmsgClient, conversation: string, text: string) {
  const spy = vi.spyOn(world, "submit").mockImplementation(() => {
    throw new EmsgError("forbidden", "Not a member.");
  });
  const sent = await alice.sendText(conversation, text);
  await alice.flush();
  spy.mockRestore();
  return sent;
}

describe("a failed message on the chat screen", { timeout: 60_000 }, () => {
  it("says why in the person's language and offers Retry, which sends it: then it shows sent", async () => {
    const { world, alice, conversation } = await tripGroup();
    await refusedText(world, alice, conversation, "see you there");
    const chat = await openChat(alice, conversation);
    await vi.waitFor(() => expect(item(chat, "see you there")?.failure).toEqual({ reason: "That is not allowed.", retry: true, unsent: false }));
    expect(item(chat, "see you there")?.status).toBe("failed");
    const chinese = await openChat(alice, conversation, "zh-CN");
    await vi.waitFor(() => expect(item(chinese, "see you there")?.failure?.reason).toBe(translator("zh-CN")("error.forbidden")));

    await chat.retry(item(chat, "see you there")!.id);
    expect(item(chat, "see you there")).toMatchObject({ status: "sending", failure: null });
    await alice.flush();
    await vi.waitFor(() => expect(item(chat, "see you there")).toMatchObject({ status: "sent", failure: null }));
  });

  it("words a bounce by what it means for a message, not as something that will be retried", async () => {
    const { world, alice, conversation } = await tripGroup();
    const sent = await alice.sendText(conversation, "hello?");
    await alice.flush();
    const mailbox = world.accounts.get(alice.address)!.mailbox;
    mailbox.push({ kind: "bounce", ref: sent.id, to: alice.address, error: "peer_unreachable", conversation, seq: mailbox.length + 1, at: Date.now() } as MailItem);
    await alice.sync();
    const chat = await openChat(alice, conversation);
    await vi.waitFor(() => expect(item(chat, "hello?")?.failure).toEqual({ reason: "The other server could not be reached.", retry: true, unsent: false }));
  });

  it("offers no Retry in a group this device left, only Delete, which removes it from the chat", async () => {
    const { world, alice, conversation } = await tripGroup();
    await refusedText(world, alice, conversation, "last words");
    const kept = (await record(world, alice, conversation))!;
    await world.storeOf(alice).put(`conv/${conversation}`, { ...kept, left: true });
    const chat = await openChat(alice, conversation);
    await vi.waitFor(() => expect(item(chat, "last words")?.failure).toEqual({ reason: "That is not allowed.", retry: false, unsent: false }));
    await expect(alice.retryMessage(item(chat, "last words")!.id)).rejects.toMatchObject({ code: "forbidden" });

    await chat.deleteFailed(item(chat, "last words")!.id);
    expect(item(chat, "last words")).toBeUndefined();
    expect(chat.error).toBeNull();
    expect((await alice.history(conversation)).map((m) => m.text)).not.toContain("last words");
  });
});
