import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { FileStore } from "../../cli/file-store.js";
import { membersOf } from "../../shared/mls/group-state.js";
import { decodeGroupState } from "../../shared/mls/state-codec.js";
import type { ConversationRecord } from "../../shared/client/conversation-record.js";
import { connect, newClient, type Pair, removeClientDirs, startPair, until, codeOf } from "./harness.js";

// Alice has an account on device A (her laptop) and links device B (her phone) to it.
let pair: Pair;
let laptop: EmsgClient;
let laptopDir: string;
let phone: EmsgClient;
let bob: EmsgClient;
const BOB = "bob#im.bob.test";
const ALICE = "alice#im.alice.test";

beforeAll(async () => {
  pair = await startPair(8941, 9541);
  ({ client: laptop, dir: laptopDir } = await newClient(pair));
  phone = (await newClient(pair)).client;
  bob = (await newClient(pair)).client;
});

afterAll(async () => {
  for (const c of [laptop, phone, bob]) c?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

async function texts(client: EmsgClient, peer: string): Promise<Array<[string, string]>> {
  return (await client.history(peer, { limit: 500 })).map((m) => [m.direction, m.text]);
}

/** The device ids in the laptop's MLS group with Bob, read from its store. */
async function groupDevices(): Promise<string[]> {
  const records = (await new FileStore(laptopDir).list<ConversationRecord>("conv/")).map(([, r]) => r);
  const record = records.find((r) => r.peer === BOB);
  return membersOf(await decodeGroupState(record!.group)).map((m) => m.deviceId);
}

describe("linking a second device to an account", () => {
  it("starts with Alice on her laptop, friends with Bob on the other domain, chatting", async () => {
    await laptop.register(ALICE, { label: "laptop" });
    await bob.register(BOB, { label: "bob phone" });
    await laptop.sendFriendRequest(BOB, "hi Bob");
    await until("Bob to see Alice's request", async () => {
      await bob.sync();
      return (await bob.friends()).find((f) => f.address === ALICE && f.state === "incoming");
    });
    await bob.acceptFriend(ALICE);
    await until("Alice to see Bob accept", async () => {
      await laptop.sync();
      return (await laptop.friends()).find((f) => f.address === BOB && f.state === "friend");
    });
    await connect(laptop);
    await connect(bob);
    await laptop.sendText(BOB, "before the phone");
    await until("Bob to get the first message", async () => (await texts(bob, ALICE)).some(([, t]) => t === "before the phone"));
    // Bob reads it and likes it: the laptop's record the phone is to bring along.
    await bob.markRead(ALICE);
    await bob.react((await bob.history(ALICE, { limit: 500 })).find((m) => m.text === "before the phone")!.id, "👍");
    await until("the laptop to see it read and liked", async () => {
      const sent = (await laptop.history(BOB, { limit: 500 })).find((m) => m.text === "before the phone");
      return sent?.read && sent.reactions?.some((r) => r.emoji === "👍");
    });
  });

  it("links the phone with the code the laptop shows; the code works once", async () => {
    const offer = await laptop.startDeviceLink();
    expect(offer.code).toMatch(/^emsg-link:1:alice#im\.alice\.test:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    expect(offer.expires - Date.now()).toBeGreaterThan(9 * 60_000);

    // A code with the right id but a wrong key opens nothing, and uses the link up.
    const wasted = await laptop.startDeviceLink();
    const wrongKey = wasted.code.replace(/:[^:]+$/, `:${"A".repeat(42)}A`);
    const stranger = (await newClient(pair)).client;
    expect(await codeOf(stranger.linkDevice(wrongKey, { label: "thief" }))).toBe("unauthorized");
    expect(await codeOf(stranger.linkDevice(wasted.code, { label: "thief" }))).toBe("not_found");
    expect(await codeOf(stranger.linkDevice("emsg-link:2:x", {}))).toBe("unsupported_version");

    const account = await phone.linkDevice(offer.code, { label: "phone" });
    expect(account.address).toBe(ALICE);
    expect(account.accountPublicKey).toBe(laptop.account!.accountPublicKey);
    expect(account.deviceId).not.toBe(laptop.account!.deviceId);
    // The friend and the key the laptop pinned came along.
    expect((await phone.friends()).find((f) => f.address === BOB)).toMatchObject({ state: "friend", accountKey: (await laptop.friends()).find((f) => f.address === BOB)!.accountKey });
    // The code is single use.
    const again = (await newClient(pair)).client;
    expect(await codeOf(again.linkDevice(offer.code, { label: "again" }))).toBe("not_found");

    const devices = await laptop.devices();
    expect(devices.map((d) => [d.label, d.current])).toEqual([["laptop", true], ["phone", false]]);
    expect((await phone.devices()).find((d) => d.current)?.label).toBe("phone");
  });

  it("brings the phone into the existing chat: it reads Bob's new messages and can answer", async () => {
    await connect(phone);
    await until("the laptop to add the phone to the conversation", async () => (await phone.conversations()).find((c) => c.peer === BOB));
    expect(await groupDevices()).toContain(phone.account!.deviceId);
    await bob.sendText(ALICE, "hello both of you");
    await until("the phone to read Bob", async () => (await texts(phone, BOB)).some(([d, t]) => d === "in" && t === "hello both of you"));
    await until("the laptop to read Bob", async () => (await texts(laptop, BOB)).some(([d, t]) => d === "in" && t === "hello both of you"));
    // What was said before the link came in the link bundle: the laptop's record, kept apart from what
    // the phone received (PROTOCOL §6), once, as Alice's own words.
    const earlier = (await phone.history(BOB, { limit: 500 })).filter((m) => m.text === "before the phone");
    expect(earlier.map((m) => [m.direction, m.conversation])).toEqual([["out", `moved:${BOB}`]]);
    // As the laptop shows it: read by Bob, with his 👍.
    expect(earlier[0]).toMatchObject({ status: "delivered", read: true, reactions: [{ by: BOB, emoji: "👍" }] });

    await phone.sendText(BOB, "typed on the phone");
    await until("Bob to read the phone", async () => (await texts(bob, ALICE)).some(([d, t]) => d === "in" && t === "typed on the phone"));
    await until("the laptop to show the phone's message as Alice's own", async () =>
      (await texts(laptop, BOB)).some(([d, t]) => d === "out" && t === "typed on the phone"));

    await laptop.sendText(BOB, "typed on the laptop");
    await until("Bob to read the laptop", async () => (await texts(bob, ALICE)).some(([, t]) => t === "typed on the laptop"));
    await until("the phone to show the laptop's message as Alice's own", async () =>
      (await texts(phone, BOB)).some(([d, t]) => d === "out" && t === "typed on the laptop"));
    // Bob still sees one conversation with Alice.
    expect((await bob.conversations()).filter((c) => c.peer === ALICE)).toHaveLength(1);
  });

  it("is claimed with the laptop when a new friend starts a conversation with Alice", async () => {
    const dave = (await newClient(pair)).client;
    await dave.register("dave#im.bob.test", { label: "dave" });
    await dave.sendFriendRequest(ALICE, "hi Alice, Dave here");
    await until("the laptop to see Dave's request", async () => {
      await laptop.sync();
      return (await laptop.friends()).find((f) => f.address === "dave#im.bob.test" && f.state === "incoming");
    });
    await laptop.acceptFriend("dave#im.bob.test");
    await until("Dave to see Alice accept", async () => {
      await dave.sync();
      return (await dave.friends()).find((f) => f.address === ALICE && f.state === "friend");
    });
    await dave.sendText(ALICE, "Dave's first words");
    await until("the laptop to read Dave", async () => (await texts(laptop, "dave#im.bob.test")).some(([, t]) => t === "Dave's first words"));
    await until("the phone to read Dave", async () => (await texts(phone, "dave#im.bob.test")).some(([, t]) => t === "Dave's first words"));
    // The phone held Dave's request too; it learns that the laptop accepted it.
    await until("the phone to see Dave as a friend", async () => {
      await phone.sync();
      return (await phone.friends()).find((f) => f.address === "dave#im.bob.test" && f.state === "friend");
    });
    dave.disconnect();
  });

  it("tells the laptop of a friend the phone made, with the key to pin", async () => {
    const carol = (await newClient(pair)).client;
    await carol.register("carol#im.bob.test", { label: "carol" });
    await phone.sendFriendRequest("carol#im.bob.test", "hi Carol");
    await until("Carol to see the request", async () => {
      await carol.sync();
      return (await carol.friends()).find((f) => f.address === ALICE && f.state === "incoming");
    });
    await carol.acceptFriend(ALICE);
    const pinned = await until("the laptop to pin Carol", async () => (await laptop.friends()).find((f) => f.address === "carol#im.bob.test" && f.state === "friend"));
    expect(pinned.accountKey).toBe(carol.account!.accountPublicKey);
    expect(await laptop.safetyNumber("carol#im.bob.test")).toBe(await carol.safetyNumber(ALICE));
  });

  it("removes the phone from the account and from the conversation", async () => {
    const phoneId = phone.account!.deviceId;
    expect(await codeOf(laptop.removeDevice(laptop.account!.deviceId))).toBe("bad_request");
    await laptop.removeDevice(phoneId);
    expect((await laptop.devices()).map((d) => d.label)).toEqual(["laptop"]);
    expect(await codeOf(phone.devices())).toBe("device_removed");
    await until("the laptop to commit the phone's removal", async () => !(await groupDevices()).includes(phoneId));
    await bob.sendText(ALICE, "after the phone left");
    await until("the laptop to read Bob after the removal", async () => (await texts(laptop, BOB)).some(([, t]) => t === "after the phone left"));
  });
});
