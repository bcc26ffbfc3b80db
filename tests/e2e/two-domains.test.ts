import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmsgError } from "../../shared/errors.js";
import type { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { connect, filesContaining, newClient, type Pair, removeClientDirs, reopen, startPair, until } from "./harness.js";

// One pair of real servers for the whole file; each test builds on the previous one, as a person would.
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let bobDir: string;
const secret = `the eagle lands at ${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  pair = await startPair(18797, 19797);
  alice = (await newClient(pair)).client;
  ({ client: bob, dir: bobDir } = await newClient(pair));
});

afterAll(async () => {
  alice?.disconnect();
  bob?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

async function texts(client: EmsgClient, peer: string): Promise<string[]> {
  return (await client.history(peer, { limit: 500 })).map((m) => m.text);
}

async function statusOf(client: EmsgClient, peer: string, id: string): Promise<string | undefined> {
  return (await client.history(peer, { limit: 500 })).find((m) => m.id === id)?.status;
}

describe("two federated domains", () => {
  it("registers an account on each domain", async () => {
    const a = await alice.register("alice#im.alice.test", { label: "alice laptop" });
    const b = await bob.register("Bob＃IM.bob.test", { label: "bob phone" });
    expect(a.address).toBe("alice#im.alice.test");
    expect(b.address).toBe("bob#im.bob.test");
    expect(a.origin).toBe(pair.alice);
    expect(b.origin).toBe(pair.bob);
  });

  it("makes friends across domains, and both see the same safety number", async () => {
    await alice.sendFriendRequest("bob#im.bob.test", "hi Bob, it's Alice");
    const request = await until("Bob to see Alice's request", async () => {
      await bob.sync();
      return (await bob.friends()).find((f) => f.address === "alice#im.alice.test" && f.state === "incoming");
    });
    expect(request.note).toBe("hi Bob, it's Alice");
    await bob.acceptFriend("alice#im.alice.test");
    await until("Alice to see Bob accept", async () => {
      await alice.sync();
      return (await alice.friends()).find((f) => f.address === "bob#im.bob.test" && f.state === "friend");
    });
    const number = await alice.safetyNumber("bob#im.bob.test");
    expect(number).toMatch(/^\d{60}$/);
    expect(await bob.safetyNumber("alice#im.alice.test")).toBe(number);
  });

  it("carries end-to-end encrypted messages both ways and marks them delivered", async () => {
    await connect(alice);
    await connect(bob);
    const arrived: MessageRecord[] = [];
    bob.on("message", (m) => void arrived.push(m));
    const sent = await alice.sendText("bob#im.bob.test", secret);
    expect(sent.status).toBe("sending");
    await until("Bob to receive Alice's message", () => arrived.find((m) => m.text === secret));
    await until("Alice's message to be delivered", async () => (await statusOf(alice, "bob#im.bob.test", sent.id)) === "delivered");

    const reply = await bob.sendText("alice#im.alice.test", "got it, Alice — 收到了");
    await until("Alice to receive Bob's reply", async () => (await texts(alice, "bob#im.bob.test")).includes("got it, Alice — 收到了"));
    await until("Bob's reply to be delivered", async () => (await statusOf(bob, "alice#im.alice.test", reply.id)) === "delivered");

    const [conversation] = await bob.conversations();
    expect(conversation).toMatchObject({ peer: "alice#im.alice.test" });
    expect(await texts(bob, "alice#im.alice.test")).toEqual([secret, "got it, Alice — 收到了"]);
  });

  it("never stores or logs the plaintext on either server", async () => {
    // Give the servers a moment to flush SQLite pages and logs.
    await new Promise((r) => setTimeout(r, 500));
    expect(await filesContaining(pair.persistRoot, secret)).toEqual([]);
    expect(pair.logs.filter((line) => line.includes(secret))).toEqual([]);
    expect(pair.logs.some((line) => line.includes("/emsg/v1/"))).toBe(true);
  });

  it("delivers messages sent while the recipient was offline once it reconnects", async () => {
    bob.disconnect();
    const offline = ["are you there?", "call me when you can", "🙂"];
    for (const text of offline) await alice.sendText("bob#im.bob.test", text);
    await alice.idle();
    await connect(bob);
    await until("Bob to get what was sent while he was away", async () => {
      const seen = await texts(bob, "alice#im.alice.test");
      return offline.every((t) => seen.includes(t));
    });
    const seen = await texts(bob, "alice#im.alice.test");
    expect(seen.slice(-3)).toEqual(offline);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("loses nothing and shows nothing twice when the receiving server is killed and restarted mid-stream", async () => {
    const stream = Array.from({ length: 12 }, (_, i) => `stream message ${i + 1}`);
    for (const [i, text] of stream.entries()) {
      if (i === 4) await pair.running.stop("im.bob.test", { hard: true });
      if (i === 8) await pair.running.restart("im.bob.test");
      await alice.sendText("bob#im.bob.test", text);
    }
    await alice.idle();
    // Bob's app restarts too, from what it stored on disk.
    bob.disconnect();
    bob = reopen(pair, bobDir);
    expect(await bob.open()).toBe(true);
    await connect(bob);
    await until("every streamed message to reach Bob", async () => {
      const seen = await texts(bob, "alice#im.alice.test");
      return stream.every((t) => seen.includes(t));
    }, 90_000);
    const seen = (await texts(bob, "alice#im.alice.test")).filter((t) => t.startsWith("stream message"));
    expect(seen).toEqual(stream);
  }, 180_000);

  it("queues what is written while the sender's own server is down and sends it on reconnect", async () => {
    await pair.running.stop("im.alice.test", { hard: true });
    const queued = await alice.sendText("bob#im.bob.test", "written on the train");
    await alice.idle();
    expect(await statusOf(alice, "bob#im.bob.test", queued.id)).toBe("sending");
    await pair.running.restart("im.alice.test");
    await connect(alice);
    await until("the queued message to be delivered", async () => (await statusOf(alice, "bob#im.bob.test", queued.id)) === "delivered", 60_000);
    expect((await texts(bob, "alice#im.alice.test")).filter((t) => t === "written on the train")).toHaveLength(1);
  }, 120_000);

  it("refuses a stranger when the recipient accepts friends only", async () => {
    const { client: carol } = await newClient(pair);
    await carol.register("carol#im.bob.test");
    await carol.setSettings({ strangers: "refuse" });
    let refusal: string | undefined;
    try {
      await alice.sendFriendRequest("carol#im.bob.test", "hello stranger");
    } catch (error) {
      refusal = (error as EmsgError).code;
    }
    refusal ??= await until("the refusal to come back to Alice", async () => {
      await alice.sync();
      return (await alice.friends()).find((f) => f.address === "carol#im.bob.test")?.bounced;
    });
    expect(refusal).toBe("stranger_refused");
    await carol.sync();
    expect(await carol.friends()).toEqual([]);
  });

  it("refuses a request from someone the recipient blocked", async () => {
    const { client: erin } = await newClient(pair);
    await erin.register("erin#im.bob.test");
    expect((await erin.block("alice#im.alice.test")).state).toBe("blocked");
    let refusal: string | undefined;
    try {
      await alice.sendFriendRequest("erin#im.bob.test", "hello?");
    } catch (error) {
      refusal = (error as EmsgError).code;
    }
    refusal ??= await until("the refusal to come back to Alice", async () => {
      await alice.sync();
      return (await alice.friends()).find((f) => f.address === "erin#im.bob.test")?.bounced;
    });
    expect(refusal).toBe("forbidden");
  });

  it("holds a stranger's request for review, and accepting it from there makes friends", async () => {
    const { client: dave } = await newClient(pair);
    await dave.register("dave#im.bob.test");
    await dave.setSettings({ strangers: "review" });
    await alice.sendFriendRequest("dave#im.bob.test", "we met at the conference");
    const held = await until("Dave to see the held request", async () => {
      await dave.sync();
      return (await dave.friends()).find((f) => f.address === "alice#im.alice.test" && f.state === "held");
    });
    expect(held.note).toBe("we met at the conference");
    await dave.acceptFriend("alice#im.alice.test");
    await until("Alice to see Dave accept", async () => {
      await alice.sync();
      return (await alice.friends()).find((f) => f.address === "dave#im.bob.test")?.state === "friend";
    });
  });

  it("deletes an account for good: friends are told and the name stays reserved", async () => {
    bob.disconnect();
    await bob.deleteAccount();
    await until("Alice to learn that Bob is gone", async () => {
      await alice.sync();
      return (await alice.friends()).find((f) => f.address === "bob#im.bob.test")?.state === "gone";
    });
    const { client: impostor } = await newClient(pair);
    await expect(impostor.register("bob#im.bob.test")).rejects.toMatchObject({ code: "conflict" });
  });
});
