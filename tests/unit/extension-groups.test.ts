import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import type { ConversationSummary, MessageRecord } from "../../shared/client/index.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { MemoryStore } from "../../shared/client/store.js";
import { translator } from "../../ui/i18n/translate.js";
import { ClientService } from "../../extension/background/client-service.js";
import { handleRequest, type RequestContext } from "../../extension/background/requests.js";
import { arrivalNotification } from "../../ui/view-models/notification-policy.js";
import { GroupWorld } from "./group-world.js";
import { OWN, SELF, PANEL, PAGE } from "./extension-senders.js";

const alice = "alice#im.alice.test" as Address;
const bob = "bob#im.bob.test" as Address;
const carol = "carol#im.bob.test" as Address;
const en = translator("en");
const zh = translator("zh-CN");

function groupSummary(over: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    conversation: "im.alice.test/g1",
    kind: "group",
    title: "Weekend",
    members: [alice, bob, carol],
    epoch: 1,
    lastHubSeq: 3,
    created: 1,
    unread: 2,
    last: { id: "m1", from: bob, text: "see you there", at: 1000, direction: "in", status: "received" },
    ...over,
  };
}

function incoming(over: Partial<MessageRecord> = {}): MessageRecord {
  return { id: "m1", conversation: "im.alice.test/g1", from: bob, direction: "in", text: "see you there", at: 1000, status: "received", ...over };
}

describe("the background's views of groups", () => {
  it("titles a group message's notification with who wrote it in which group, in the person's language", () => {
    expect(arrivalNotification(incoming(), groupSummary(), alice, en)).toEqual({ title: "bob in Weekend", body: "see you there" });
    expect(arrivalNotification(incoming(), groupSummary(), alice, zh)?.title).toContain("Weekend");
    expect(arrivalNotification(incoming({ conversation: "im.alice.test/d1" }), undefined, alice, en)).toEqual({ title: bob, body: "see you there" });
  });

  it("does not notify of group events or of our own messages", () => {
    expect(arrivalNotification(incoming({ text: "", notice: { type: "left", by: bob } }), groupSummary(), alice, en)).toBeNull();
    expect(arrivalNotification(incoming({ direction: "out", from: alice, status: "sent" }), groupSummary(), alice, en)).toBeNull();
  });
});

async function syncAll(...clients: EmsgClient[]): Promise<void> {
  for (let round = 0; round < 2; round++) for (const c of clients) await c.sync();
}

type Ask = (request: Record<string, unknown>) => Promise<Record<string, unknown> & { ok: boolean }>;

// Each person makes 30 post-quantum KeyPackages on arrival: on a busy machine that takes seconds.
describe("the background running a group for the panel", { timeout: 60_000 }, () => {
  it("creates a group, lists it by id, reads others' messages with their sender, renames, removes, adds and leaves", async () => {
    const world = new GroupWorld();
    const aliceCore = await world.person(alice);
    const bobClient = await world.person(bob);
    const carolClient = await world.person(carol);
    await world.befriend(aliceCore, bobClient);
    await world.befriend(aliceCore, carolClient);
    // The extension's background opens Alice's account from the same storage.
    const ctx: RequestContext = { service: new ClientService(world.storeOf(aliceCore), world.transport), openPanel: async () => "side-panel" };
    const ask: Ask = async (request) => (await handleRequest(request, PANEL, SELF, ctx)) as Awaited<ReturnType<Ask>>;

    expect(await ask({ type: "create-group", title: "Trip", members: [bob] })).toMatchObject({ ok: false, error: "bad_request" });
    const created = await ask({ type: "create-group", title: "Trip", members: [bob, carol] });
    expect(created).toMatchObject({ ok: true, group: { kind: "group", title: "Trip", members: [alice, bob, carol] } });
    const id = (created.group as ConversationSummary).conversation;
    await ctx.service.client.flush();
    await syncAll(bobClient, carolClient);

    await bobClient.sendText(id, "hi all");
    await bobClient.flush();
    await ctx.service.sync();
    const chats = (await ask({ type: "summaries" })).summaries as ConversationSummary[];
    expect(chats).toEqual([expect.objectContaining({ conversation: id, kind: "group", title: "Trip", members: [alice, bob, carol], last: expect.objectContaining({ text: "hi all", from: bob }) })]);
    const history = (await ask({ type: "messages", chat: id })).messages as MessageRecord[];
    expect(history.map((m) => [m.from, m.notice?.type ?? m.text])).toEqual([
      [alice, "created"],
      [bob, "hi all"],
    ]);
    expect(await ask({ type: "send-text", chat: id, text: "hello trip" })).toMatchObject({ ok: true, record: { direction: "out", text: "hello trip" } });

    expect(await ask({ type: "rename-group", conversation: id, title: "Trip to Lisbon" })).toEqual({ ok: true, done: true });
    expect(await ask({ type: "remove-from-group", conversation: id, members: [carol] })).toEqual({ ok: true, done: true });
    expect(await ask({ type: "group", conversation: id })).toMatchObject({ ok: true, group: { title: "Trip to Lisbon", members: [alice, bob] } });
    expect(await ask({ type: "group", conversation: "im.alice.test/nothing" })).toMatchObject({ ok: false, error: "not_found" });
    expect(await ask({ type: "add-to-group", conversation: id, members: [carol] })).toEqual({ ok: true, done: true });
    expect(await ask({ type: "group", conversation: id })).toMatchObject({ ok: true, group: { members: [alice, bob, carol] } });

    expect(await ask({ type: "leave-group", conversation: id })).toEqual({ ok: true, done: true });
    expect(await ask({ type: "group", conversation: id })).toMatchObject({ ok: true, group: { left: true } });
    expect(await ask({ type: "send-text", chat: id, text: "still here?" })).toMatchObject({ ok: false, error: "forbidden" });
  });

  it("keeps a chat's own retention in the core for the panel, and follows the account's again once reset", async () => {
    const world = new GroupWorld();
    const aliceCore = await world.person(alice);
    const bobClient = await world.person(bob);
    await world.befriend(aliceCore, bobClient);
    // The account's settings as this device last read them from its server (this world serves no /account).
    await world.storeOf(aliceCore).put("settings", { strangers: "accept", retentionDays: 30 });
    const ctx: RequestContext = { service: new ClientService(world.storeOf(aliceCore), world.transport), openPanel: async () => "side-panel" };
    const ask: Ask = async (request) => (await handleRequest(request, PANEL, SELF, ctx)) as Awaited<ReturnType<Ask>>;

    expect(await ask({ type: "chat-retention", chat: bob })).toEqual({ ok: true, retention: "account", accountDays: 30 });
    expect(await ask({ type: "set-chat-retention", chat: bob, retention: 7 })).toEqual({ ok: true, retention: 7, accountDays: 30 });
    // The core holds it, so its expiry (every client's) applies it.
    expect(await ctx.service.client.chatRetention(bob)).toBe(7);
    expect(await ask({ type: "set-chat-retention", chat: bob, retention: null })).toEqual({ ok: true, retention: null, accountDays: 30 });
    expect(await ask({ type: "set-chat-retention", chat: bob, retention: 0 })).toMatchObject({ ok: false, error: "bad_request" });
    expect(await ask({ type: "set-chat-retention", chat: bob, retention: "account" })).toEqual({ ok: true, retention: "account", accountDays: 30 });
    expect(await ctx.service.client.chatRetention(bob)).toBeUndefined();
    expect(await handleRequest({ type: "set-chat-retention", chat: bob, retention: 1 }, PAGE, SELF, ctx)).toMatchObject({ ok: false, error: "forbidden" });
  });

  it("lets no web page make, change or read a group", async () => {
    const ctx: RequestContext = { service: new ClientService(new MemoryStore(), world404), openPanel: async () => "side-panel" };
    for (const request of [
      { type: "create-group", title: "Trip", members: [bob, carol] },
      { type: "group", conversation: "im.alice.test/g1" },
      { type: "rename-group", conversation: "im.alice.test/g1", title: "x" },
      { type: "add-to-group", conversation: "im.alice.test/g1", members: [bob] },
      { type: "remove-from-group", conversation: "im.alice.test/g1", members: [bob] },
      { type: "leave-group", conversation: "im.alice.test/g1" },
    ]) {
      expect(await handleRequest(request, PAGE, SELF, ctx)).toMatchObject({ ok: false, error: "forbidden" });
    }
  });
});

const world404 = {
  fetch: async () => ({ status: 404, text: async () => "" }),
  openSocket: () => {
    throw new Error("no sockets here");
  },
};
