import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { MessagePath } from "../../shared/client/live-paths.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { connect, countShown, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

// Bob (im.bob.test) talks to Alice, whose server is the conversation's hub, over a session socket
// straight to that hub (PROTOCOL §10, path 2). Node has no WebRTC, so path 3 is the browser test's.
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let conversation: string;
const shown = { alice: new Map<string, number>(), bob: new Map<string, number>() };
const paths: { alice: MessagePath[]; bob: MessagePath[] } = { alice: [], bob: [] };

function watch(client: EmsgClient, who: "alice" | "bob"): void {
  countShown(client, shown[who]);
  client.on("path", ({ path }) => void paths[who].push(path));
}

async function texts(client: EmsgClient, peer: string): Promise<string[]> {
  return (await client.history(peer, { limit: 500 })).map((m) => m.text);
}

async function record(client: EmsgClient, peer: string, id: string): Promise<MessageRecord | undefined> {
  return (await client.history(peer, { limit: 500 })).find((m) => m.id === id);
}

beforeAll(async () => {
  pair = await startPair(8885, 9485);
  alice = (await newClient(pair)).client;
  bob = (await newClient(pair)).client;
  watch(alice, "alice");
  watch(bob, "bob");
});

afterAll(async () => {
  await alice?.closeSession();
  await bob?.closeSession();
  alice?.disconnect();
  bob?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

describe("sessions between two domains", () => {
  it("starts on the mailbox path: friends, and a first message that makes Alice's server the hub", async () => {
    await alice.register("alice#im.alice.test");
    await bob.register("bob#im.bob.test");
    await alice.sendFriendRequest("bob#im.bob.test");
    await until("Bob to see the request", async () => {
      await bob.sync();
      return (await bob.friends()).some((f) => f.state === "incoming");
    });
    await bob.acceptFriend("alice#im.alice.test");
    await until("Alice to see the acceptance", async () => {
      await alice.sync();
      return (await alice.friends()).some((f) => f.state === "friend");
    });
    await connect(alice);
    await connect(bob);
    await alice.sendText("bob#im.bob.test", "hello by mail");
    await until("Bob to get the first message", () => shown.bob.get("hello by mail") === 1);
    conversation = (await bob.conversations())[0]!.conversation;
    expect(conversation.startsWith("im.alice.test/")).toBe(true);
    expect(bob.pathOf(conversation)).toBe("relay");
  });

  it("opens a session from Bob's client straight to Alice's hub, and one from Alice's to her own server", async () => {
    expect(await bob.openSession("alice#im.alice.test")).toBe("session");
    expect(await alice.openSession(conversation)).toBe("session");
    expect(paths.bob).toEqual(["session"]);
    expect(paths.alice).toEqual(["session"]);
  });

  it("carries messages both ways over the session, each shown once though the mailbox brings it too", async () => {
    const fromBob = ["one via the hub", "two via the hub", "三 via the hub"];
    const sent: MessageRecord[] = [];
    for (const text of fromBob) sent.push(await bob.sendText("alice#im.alice.test", text));
    await bob.idle();
    // Only the hub's own answer has its position: the mailbox path through Bob's server has none.
    for (const m of sent) expect((await record(bob, "alice#im.alice.test", m.id))?.hubSeq).toBeGreaterThan(0);
    await until("Alice to get Bob's messages", () => fromBob.every((t) => shown.alice.get(t) === 1));

    const fromAlice = ["reply one", "reply two"];
    for (const text of fromAlice) await alice.sendText(conversation, text);
    await until("Bob to get Alice's replies", () => fromAlice.every((t) => shown.bob.get(t) === 1));
    await until("Bob's messages to be delivered", async () => (await record(bob, "alice#im.alice.test", sent[2]!.id))?.status === "delivered");

    // Let the mailbox copies arrive and be passed over.
    await bob.sync();
    await alice.sync();
    expect([...shown.alice.values(), ...shown.bob.values()].every((n) => n === 1)).toBe(true);
    const seen = await texts(bob, "alice#im.alice.test");
    expect(seen).toEqual(["hello by mail", ...fromBob, ...fromAlice]);
    expect(await texts(alice, "bob#im.bob.test")).toEqual(seen);
  });

  it("delivers over the session alone while Bob's mailbox is disconnected, and not again when it reconnects", async () => {
    bob.disconnect();
    await alice.sendText(conversation, "session only");
    await until("Bob to get it over the session", () => shown.bob.get("session only") === 1);
    await connect(bob);
    await bob.sync();
    expect(shown.bob.get("session only")).toBe(1);
    expect((await texts(bob, "alice#im.alice.test")).filter((t) => t === "session only")).toHaveLength(1);
  });

  it("sends what Bob wrote in a rush over the session, each once, in the same order on both sides", async () => {
    const rush = Array.from({ length: 150 }, (_, i) => `rush ${i + 1}`);
    // Written faster than each is answered: the queue's flushes find many waiting and send them a window at a time.
    const sent = await Promise.all(rush.map((text) => bob.sendText("alice#im.alice.test", text)));
    await bob.idle();
    await until("Alice to get them all", () => rush.every((t) => shown.alice.get(t) === 1));
    const positions = await Promise.all(sent.map(async (m) => (await record(bob, "alice#im.alice.test", m.id))?.hubSeq));
    expect(positions.every((seq) => seq !== undefined && seq > 0)).toBe(true);
    expect(new Set(positions).size).toBe(rush.length);
    await alice.sync();
    expect(rush.every((t) => shown.alice.get(t) === 1)).toBe(true);
    expect(await texts(alice, "bob#im.bob.test")).toEqual(await texts(bob, "alice#im.alice.test"));
  });

  it("falls back to the mailbox path when the hub goes away, and loses nothing", async () => {
    const inFlight = bob.sendText("alice#im.alice.test", "sent as the hub went down");
    await pair.running.stop("im.alice.test", { hard: true });
    await until("Bob to see the session end", () => paths.bob.at(-1) === "relay");
    expect(bob.pathOf(conversation)).toBe("relay");
    await inFlight;
    const later = await bob.sendText("alice#im.alice.test", "sent while the hub was down");
    await bob.idle();
    // Bob's own server took it for the hub: the Outbox delivers it once the hub is back.
    expect((await record(bob, "alice#im.alice.test", later.id))?.status).toBe("sent");

    await pair.running.restart("im.alice.test");
    await connect(alice);
    await until("Alice to get both", async () => {
      await alice.sync();
      return shown.alice.get("sent as the hub went down") === 1 && shown.alice.get("sent while the hub was down") === 1;
    }, 90_000);
    const seen = await texts(alice, "bob#im.bob.test");
    expect(new Set(seen).size).toBe(seen.length);
  }, 150_000);

  it("closes a session that went idle, after which messages go by the mailbox path", async () => {
    expect(await bob.openSession(conversation)).toBe("session");
    bob.tickSessions(0);
    await until("the idle session to close", () => bob.pathOf(conversation) === "relay");
    const after = await bob.sendText("alice#im.alice.test", "after the idle close");
    await bob.idle();
    expect((await record(bob, "alice#im.alice.test", after.id))?.hubSeq).toBeUndefined();
    await until("Alice to get it by mail", () => shown.alice.get("after the idle close") === 1);
    expect(paths.bob.slice(-2)).toEqual(["session", "relay"]);
  });
});
