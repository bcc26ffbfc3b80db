import { describe, expect, it } from "vitest";
import { asAddress } from "../../shared/address.js";
import { accountRecord } from "../../shared/client/account.js";
import { deviceIdentityOf } from "../../shared/client/account-record.js";
import type { ClientEvents, CoreContext } from "../../shared/client/context.js";
import { saveConversation } from "../../shared/client/conversation-record.js";
import { Emitter } from "../../shared/client/events.js";
import { applyItems } from "../../shared/client/mailbox-sync.js";
import { findMessage, history, type MessageRecord, saveMessage } from "../../shared/client/messages.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { Transport } from "../../shared/client/transport.js";
import { encodeContent, newText } from "../../shared/content.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, encrypt, refreshKeys } from "../../shared/mls/group.js";
import { epochOf, type GroupState } from "../../shared/mls/group-state.js";
import { makeKeyPackages } from "../../shared/mls/keypackage.js";
import { encodeGroupState } from "../../shared/mls/state-codec.js";
import type { MailItem } from "../../shared/wire/mail.js";

// Issue 15: what a device does with a conversation whose entries come with gaps or out of order.
// Mailbox items are fed straight in; nothing here reaches a server.
const offline: Transport = {
  fetch: () => Promise.reject(new Error("no network in this test")),
  openSocket: () => {
    throw new Error("no network in this test");
  },
};
const NOW = Date.now();

type ConvItem = Extract<MailItem, { kind: "conv" }>;

function person(addressText: string): CoreContext {
  const account = accountRecord(asAddress(addressText), generateKeyPair(), generateKeyPair(), { label: "test", origin: "http://127.0.0.1:9", now: NOW });
  const clock = { now: () => NOW };
  return { store: new MemoryStore(), api: new ServerApi(offline, clock, account.origin, account.domain), clock, account, events: new Emitter<ClientEvents>() };
}

/** Alice's side of a 1:1 with Bob: what she sends, each as the mailbox item the hub makes of it. */
class AliceWrites {
  private hubSeq = 0;
  private mailSeq = 0;
  readonly items: MailItem[] = [];
  private constructor(
    readonly alice: CoreContext,
    readonly bob: CoreContext,
    readonly conversation: string,
    private group: GroupState,
  ) {}

  static async start(): Promise<AliceWrites> {
    const alice = person("alice#im.alice.test");
    const bob = person("bob#im.bob.test");
    for (const [a, b] of [[alice, bob], [bob, alice]] as const) {
      await a.store.put(`friend/${b.account.address}`, { address: b.account.address, accountKey: b.account.accountPublicKey, state: "friend", since: NOW });
    }
    const [bundle] = await makeKeyPackages(deviceIdentityOf(bob.account), 1, NOW);
    await bob.store.put(`kp/${bundle!.ref}`, bundle);
    const conversation = `im.alice.test/${randomId16()}`;
    const added = await addMembers(await createGroup(deviceIdentityOf(alice.account), conversation), [bundle!.keyPackage]);
    await saveConversation(alice, {
      conversation, members: [alice.account.address, bob.account.address], peer: bob.account.address,
      group: encodeGroupState(added.state), epoch: epochOf(added.state), lastHubSeq: 1, created: NOW, unread: 0,
    });
    const writes = new AliceWrites(alice, bob, conversation, added.state);
    writes.entry("welcome", added.welcome, 1);
    return writes;
  }

  private entry(type: "welcome" | "application" | "commit", mls: string, epoch: number, id = randomId16()): ConvItem {
    const item = {
      seq: ++this.mailSeq, at: NOW + this.hubSeq, kind: "conv", conversation: this.conversation as never, id, hubSeq: ++this.hubSeq,
      from: this.alice.account.address, deviceId: this.alice.account.deviceId, epoch, type, mls,
    } as ConvItem;
    this.items.push(item);
    return item;
  }

  /** A text, submitted as the client does: its Submit id is the content's id. */
  async text(text: string): Promise<ConvItem> {
    const content = newText(text, NOW + this.hubSeq);
    const sent = await encrypt(this.group, encodeContent(content));
    this.group = sent.state;
    return this.entry("application", sent.mls, epochOf(sent.state), content.id);
  }

  async commit(): Promise<ConvItem> {
    const epoch = epochOf(this.group);
    const committed = await refreshKeys(this.group);
    this.group = committed.state;
    return this.entry("commit", committed.commit, epoch);
  }
}

/** Bob's device reads `items` as its mailbox numbers them now (in the order given). */
async function bobReads(writes: AliceWrites, items: MailItem[], from = 1): Promise<number> {
  return applyItems(writes.bob, items.map((item, i) => ({ ...item, seq: from + i }) as MailItem), async () => undefined);
}

async function shown(writes: AliceWrites): Promise<MessageRecord[]> {
  return history(writes.bob, writes.conversation, { limit: 1000 });
}

const texts = (records: MessageRecord[]) => records.filter((m) => !m.notice).map((m) => m.text);
const unreadable = (records: MessageRecord[]) => records.filter((m) => m.notice?.type === "unreadable");

describe("a conversation's entries with gaps", () => {
  it("reads a message that comes after later ones of the same epoch, within the 10 skipped generations kept", async () => {
    const writes = await AliceWrites.start();
    const [welcome] = writes.items as [MailItem];
    const sent = [];
    for (let i = 1; i <= 11; i++) sent.push(await writes.text(`m${i}`));
    await bobReads(writes, [welcome, sent[10]!, ...sent.slice(0, 10)]);
    expect(texts(await shown(writes)).sort()).toEqual(sent.map((_, i) => `m${i + 1}`).sort());
    expect(unreadable(await shown(writes))).toEqual([]);
  });

  it("reports a message whose key is gone (read after more than 10 later ones) in the conversation instead of dropping it quietly", async () => {
    const writes = await AliceWrites.start();
    const [welcome] = writes.items as [MailItem];
    const sent = [];
    for (let i = 1; i <= 12; i++) sent.push(await writes.text(`m${i}`));
    const upTo = await bobReads(writes, [welcome, sent[11]!, ...sent.slice(0, 11)]);
    const records = await shown(writes);
    expect(texts(records)).not.toContain("m1");
    expect(texts(records)).toHaveLength(11);
    expect(unreadable(records)).toMatchObject([{ id: sent[0]!.id, from: "alice#im.alice.test", direction: "in", notice: { type: "unreadable", by: "alice#im.alice.test" } }]);
    // Reported, so the mailbox goes on: the device acknowledges everything.
    expect(upTo).toBe(13);
  });

  it("passes over a repeat of an entry it read (same hub position) without reporting it", async () => {
    const writes = await AliceWrites.start();
    const [welcome] = writes.items as [MailItem];
    const one = await writes.text("once");
    await bobReads(writes, [welcome, one]);
    await bobReads(writes, [one, one], 3);
    const records = await shown(writes);
    expect(texts(records)).toEqual(["once"]);
    expect(unreadable(records)).toEqual([]);
  });

  it("keeps a message of an epoch it has not reached until the commit before it comes, then reads both in hub order", async () => {
    const writes = await AliceWrites.start();
    const [welcome] = writes.items as [MailItem];
    const before = await writes.text("before the commit");
    const commit = await writes.commit();
    const after = await writes.text("after the commit");
    expect(await bobReads(writes, [welcome, before, after])).toBe(3);
    expect(texts(await shown(writes))).toEqual(["before the commit"]);
    await bobReads(writes, [commit], 4);
    const records = await shown(writes);
    expect(texts(records)).toEqual(["before the commit", "after the commit"]);
    expect(unreadable(records)).toEqual([]);
    expect(await writes.bob.store.list("held/")).toEqual([]);
  });
});

describe("the sender's tick", () => {
  it("shows a text sent once its own copy comes back from the hub, when the hub's answer to it was lost", async () => {
    const writes = await AliceWrites.start();
    const item = await writes.text("answer lost");
    const { alice } = writes;
    await saveMessage(alice, { id: item.id, conversation: writes.conversation, from: alice.account.address, direction: "out", text: "answer lost", at: NOW, status: "sending" });
    await applyItems(alice, [{ ...item, seq: 1 } as MailItem], async () => undefined);
    expect(await findMessage(alice, item.id)).toMatchObject({ status: "sent", hubSeq: item.hubSeq });
  });
});
