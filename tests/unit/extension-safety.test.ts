import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { Emitter } from "../../shared/client/events.js";
import type { ClientEvents } from "../../shared/client/context.js";
import type { Friend } from "../../shared/client/index.js";
import { MemoryStore } from "../../shared/client/store.js";
import { ClientService } from "../../extension/background/client-service.js";
import { handleRequest, type RequestContext } from "../../extension/background/requests.js";
import { FriendTrustList } from "../../ui/view-models/friend-trust.js";
import { LocalRecords } from "../../ui/view-models/local-records.js";
import { GroupWorld } from "./group-world.js";
import { PAGE, PANEL, SELF } from "./extension-senders.js";

const alice = "alice#im.alice.test" as Address;
const bob = "bob#im.bob.test" as Address;

// What the side panel's safety dialog and nickname form ask the background, answered by Alice's real core.
describe("the background answering the panel's safety number and nickname requests", { timeout: 60_000 }, () => {
  it("gives the number bob's own core computes, alice's public key, and keeps a nickname on this device", async () => {
    const world = new GroupWorld();
    const aliceCore = await world.person(alice);
    const bobCore = await world.person(bob);
    await world.befriend(aliceCore, bobCore);
    const ctx: RequestContext = { service: new ClientService(world.storeOf(aliceCore), world.transport), openPanel: async () => "side-panel" };
    const ask = (request: Record<string, unknown>, sender = PANEL) => handleRequest(request, sender, SELF, ctx);

    expect(await ask({ type: "safety-number", address: bob })).toEqual({ ok: true, number: await bobCore.safetyNumber(alice) });
    expect(await ask({ type: "account-key" })).toEqual({ ok: true, accountKey: aliceCore.account!.accountPublicKey });

    expect(await ask({ type: "set-nickname", address: bob, nickname: "  Bobby " })).toEqual({ ok: true, nickname: "Bobby" });
    expect(await ask({ type: "nicknames" })).toEqual({ ok: true, nicknames: [[bob, "Bobby"]] });
    expect(await ask({ type: "set-nickname", address: bob, nickname: "" })).toEqual({ ok: true, nickname: null });
    expect(await ask({ type: "nicknames" })).toEqual({ ok: true, nicknames: [] });

    // A web page learns none of it, nor can it rename anyone.
    for (const request of [{ type: "safety-number", address: bob }, { type: "account-key" }, { type: "nicknames" }, { type: "set-nickname", address: bob, nickname: "x" }]) {
      expect(await ask(request, PAGE)).toMatchObject({ ok: false, error: "forbidden" });
    }
    for (const malformed of [{ type: "safety-number" }, { type: "set-nickname", address: bob }, { type: "set-nickname", address: bob, nickname: null }]) {
      expect(await ask(malformed)).toMatchObject({ ok: false, error: "bad_request" });
    }
  });
});

describe("friends' trust in a list without the friends view model (the extension's)", () => {
  const friend = (accountKey: string): Friend => ({ address: bob, state: "friend", since: 1, accountKey }) as Friend;
  const listOf = (records: LocalRecords, current: () => Friend) => {
    const events = new Emitter<ClientEvents>();
    return { events, list: new FriendTrustList({ friends: async () => [current()], events }, records) };
  };

  it("pins the first key seen, shows a verified mark for it, and warns once another key comes", async () => {
    const records = new LocalRecords(new MemoryStore());
    let key = "key-one";
    const { events, list } = listOf(records, () => friend(key));
    await list.load();
    expect(list.of(bob)).toEqual({ verified: false, keyChanged: false });

    await records.setVerified(bob, key, true);
    await list.load();
    expect(list.of(bob)).toEqual({ verified: true, keyChanged: false });

    // A friend event with another key (a rogue server's, or a move): verification is lost, the warning shows.
    key = "key-two";
    let told = false;
    list.subscribe(() => (told = true));
    events.emit("friend", friend(key));
    await expect.poll(() => told).toBe(true);
    expect(list.of(bob)).toEqual({ verified: false, keyChanged: true });

    // Comparing numbers again and marking the new key verified accepts it.
    await records.setVerified(bob, key, true);
    await list.load();
    expect(list.of(bob)).toEqual({ verified: true, keyChanged: false });
  });

  it("keeps the warning of a new key that came while an earlier read of the friends was still answering", async () => {
    const records = new LocalRecords(new MemoryStore());
    await records.observeKey(bob, "key-one");
    const events = new Emitter<ClientEvents>();
    let answer: ((friends: Friend[]) => void) | undefined;
    const list = new FriendTrustList({ friends: () => new Promise((done) => (answer = done)), events }, records);
    const loading = list.load();
    await expect.poll(() => answer).toBeDefined();
    events.emit("friend", friend("key-two"));
    answer!([friend("key-one")]);
    await loading;
    await expect.poll(() => list.of(bob)).toEqual({ verified: false, keyChanged: true });
  });
});
