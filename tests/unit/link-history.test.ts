import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { type ArchiveChat, parseArchiveContents } from "../../shared/account-archive.js";
import { LINK_HISTORY_MAX_MESSAGES, type LinkBundle, openLinkBundle, sealLinkBundle, withHistory } from "../../shared/device-link.js";
import type { AttachmentRecord } from "../../shared/client/attachments.js";
import type { CoreContext } from "../../shared/client/context.js";
import { history, type MessageRecord, saveMessage } from "../../shared/client/messages.js";
import { chatOfMoved, historyForExport, movedChat, restoreHistory } from "../../shared/client/moved-history.js";
import { MemoryStore } from "../../shared/client/store.js";
import { Emitter } from "../../shared/client/events.js";
import type { ClientEvents } from "../../shared/client/index.js";
import type { ConversationRecord } from "../../shared/client/conversation-record.js";
import { readChange, readReceipt } from "../../shared/client/message-changes.js";
import { newEdit, newReaction, newReceipt } from "../../shared/content.js";
import { deliveryOf } from "../../ui/view-models/conversation-model.js";

const alice = "alice#im.alice.test" as Address;
const bob = "bob#im.bob.test" as Address;
const carol = "carol#im.carol.test" as Address;
const AT = 1_796_000_000_000;
const CONVERSATION = "im.alice.test/AAAAAAAAAAAAAAAAAAAAAA";

function device(): CoreContext {
  return { store: new MemoryStore(), account: { address: alice } } as unknown as CoreContext;
}

const photo: AttachmentRecord = {
  blob: randomId16(),
  size: 2048,
  mediaType: "image/png",
  name: "photo.png",
  key: toB64u(new Uint8Array(32).fill(1)),
  hash: toB64u(new Uint8Array(32).fill(2)),
  until: AT + 86_400_000,
  width: 320,
  height: 240,
  kind: "image",
};

/** Alice's laptop: a chat with Bob where one text was read, one delivered, one only sent, and reactions on both sides. */
async function laptop(): Promise<{ ctx: CoreContext; ids: Record<"read" | "delivered" | "sent" | "fromBob" | "photo", string> }> {
  const ctx = device();
  await ctx.store.put(`conv/${CONVERSATION}`, { conversation: CONVERSATION, members: [alice, bob], kind: "direct", peer: bob, created: AT, epoch: 1, lastHubSeq: 5, unread: 0 });
  const ids = { read: randomId16(), delivered: randomId16(), sent: randomId16(), fromBob: randomId16(), photo: randomId16() };
  const base = { conversation: CONVERSATION, text: "" } as const;
  const messages: MessageRecord[] = [
    { ...base, id: ids.read, from: alice, direction: "out", text: "read by Bob", at: AT + 1, status: "delivered", read: true },
    { ...base, id: ids.fromBob, from: bob, direction: "in", text: "hi Alice", at: AT + 2, status: "received", readSent: true, reactions: [{ by: alice, emoji: "👍", at: AT + 3 }, { by: alice, emoji: "😂", at: AT + 4, removed: true }] },
    { ...base, id: ids.delivered, from: alice, direction: "out", text: "delivered only", at: AT + 5, status: "delivered" },
    { ...base, id: ids.photo, from: alice, direction: "out", text: "photo.png", at: AT + 6, status: "delivered", read: true, attachment: photo, reactions: [{ by: bob, emoji: "❤️", at: AT + 7 }] },
    { ...base, id: ids.sent, from: alice, direction: "out", text: "not yet delivered", at: AT + 8, status: "sent" },
  ];
  for (const m of messages) await saveMessage(ctx, m);
  return { ctx, ids };
}

function bundleOf(history: ArchiveChat[]): LinkBundle {
  const account = generateKeyPair();
  const base: LinkBundle = {
    emsgLink: 1,
    address: alice,
    accountKey: { pub: toB64u(account.publicKey), priv: toB64u(account.privateKey) },
    friends: [],
    settings: { strangers: "accept", retentionDays: null },
    created: AT + 10,
  };
  return withHistory(base, history);
}

/** The link as it crosses the wire: sealed on the laptop, opened on the phone. */
function overTheWire(bundle: LinkBundle): LinkBundle {
  const code = { address: alice, id: randomId16(), key: crypto.getRandomValues(new Uint8Array(32)) };
  return openLinkBundle(sealLinkBundle(bundle, code), code);
}

/** What the phone shows for each message: its tick, its reactions, whether it is marked earlier history. */
async function shown(ctx: CoreContext) {
  const messages = await history(ctx, movedChat(bob), { limit: 50 });
  return Object.fromEntries(
    messages.map((m) => [
      m.text,
      { tick: deliveryOf(m, "online"), reactions: (m.reactions ?? []).filter((r) => !r.removed).map((r) => `${r.emoji} ${r.by}`), earlier: chatOfMoved(m.conversation) !== undefined },
    ]),
  );
}

describe("the history a linked device brings", () => {
  it("shows each message as the other device did: its reactions, how far ours got, all marked earlier history", async () => {
    const { ctx } = await laptop();
    const bundle = overTheWire(bundleOf(await historyForExport(ctx, LINK_HISTORY_MAX_MESSAGES, { link: true })));
    const phone = device();
    expect(await restoreHistory(phone, alice, bundle.history!)).toBe(5);
    expect(await shown(phone)).toEqual({
      "read by Bob": { tick: "read", reactions: [], earlier: true },
      "hi Alice": { tick: null, reactions: [`👍 ${alice}`], earlier: true },
      "delivered only": { tick: "delivered", reactions: [], earlier: true },
      "photo.png": { tick: "read", reactions: [`❤️ ${bob}`], earlier: true },
      "not yet delivered": { tick: "sent", reactions: [], earlier: true },
    });
  });

  it("carries reactions with their time, so one taken back later on the new device still applies", async () => {
    const { ctx, ids } = await laptop();
    const phone = device();
    await restoreHistory(phone, alice, overTheWire(bundleOf(await historyForExport(ctx, LINK_HISTORY_MAX_MESSAGES, { link: true }))).history!);
    const [fromBob] = (await history(phone, movedChat(bob), { limit: 50 })).filter((m) => m.id === ids.fromBob);
    expect(fromBob!.reactions).toEqual([{ by: alice, emoji: "👍", at: AT + 3 }]);
  });

  it("still applies an older device's history, which says nothing of receipts or reactions: ours as sent", async () => {
    const old: ArchiveChat[] = [{ chat: bob, messages: [{ id: randomId16(), from: alice, text: "from an older laptop", at: AT }, { id: randomId16(), from: bob, text: "and Bob's answer", at: AT + 1 }] }];
    const phone = device();
    expect(await restoreHistory(phone, alice, overTheWire(bundleOf(old)).history!)).toBe(2);
    expect(await shown(phone)).toEqual({
      "from an older laptop": { tick: "sent", reactions: [], earlier: true },
      "and Bob's answer": { tick: null, reactions: [], earlier: true },
    });
  });

  it("leaves reactions and receipts out of an export, which another account reads (PROTOCOL §11)", async () => {
    const { ctx } = await laptop();
    const messages = (await historyForExport(ctx)).flatMap((c) => c.messages);
    expect(messages).toHaveLength(5);
    for (const m of messages) {
      expect(m).not.toHaveProperty("status");
      expect(m).not.toHaveProperty("reactions");
    }
  });

  it("takes what comes later in the chat for a message it brought: a reaction, an edit, a read receipt; not one from another chat", async () => {
    const { ctx, ids } = await laptop();
    const phone = { ...device(), events: new Emitter<ClientEvents>() } as CoreContext;
    await restoreHistory(phone, alice, overTheWire(bundleOf(await historyForExport(ctx, LINK_HISTORY_MAX_MESSAGES, { link: true }))).history!);
    const withBob: ConversationRecord = { conversation: CONVERSATION, members: [alice, bob], kind: "direct", peer: bob, group: "", created: AT, epoch: 1, lastHubSeq: 5, unread: 0 };
    const withCarol: ConversationRecord = { ...withBob, conversation: "im.alice.test/BBBBBBBBBBBBBBBBBBBBBB", members: [alice, carol], peer: carol };
    await readChange(phone, withCarol, newReaction(ids.delivered, "🙃", "add", AT + 19), carol);
    await readChange(phone, withBob, newReaction(ids.delivered, "🎉", "add", AT + 20), bob);
    await readChange(phone, withBob, newEdit(ids.fromBob, "hi Alice!", AT + 21), bob);
    await readReceipt(phone, withCarol, newReceipt([ids.sent], "read", AT + 22), true);
    expect((await shown(phone))["not yet delivered"]!.tick).toBe("sent");
    await readReceipt(phone, withBob, newReceipt([ids.sent], "read", AT + 22), true);
    const now = await shown(phone);
    expect(now["delivered only"]).toEqual({ tick: "delivered", reactions: [`🎉 ${bob}`], earlier: true });
    expect(now["hi Alice!"]).toEqual({ tick: null, reactions: [`👍 ${alice}`], earlier: true });
    expect(now["not yet delivered"]!.tick).toBe("read");
  });

  it("refuses a history whose status or reactions are malformed", () => {
    const contents = (message: object) => ({
      address: alice,
      accountKey: bundleOf([]).accountKey,
      friends: [],
      groups: [],
      favorites: [],
      history: [{ chat: bob, messages: [{ id: "x", from: alice, text: "hi", at: AT, ...message }] }],
      settings: { strangers: "accept", retentionDays: null },
      exportedAt: AT,
    });
    expect(() => parseArchiveContents(contents({ status: "read" }))).not.toThrow();
    expect(() => parseArchiveContents(contents({ status: "seen" }))).toThrow();
    expect(() => parseArchiveContents(contents({ reactions: [{ by: "nobody", emoji: "👍", at: AT }] }))).toThrow();
    expect(() => parseArchiveContents(contents({ reactions: [{ by: bob, emoji: "", at: AT }] }))).toThrow();
  });
});
