import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { befriend, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

// Bob writes into a conversation whose hub is Alice's server just after Alice's laptop committed
// (it added her new phone) and before that commit reached Bob: the hub refuses his text as
// stale_epoch, and the refusal comes back to Bob's device as a bounce (PROTOCOL §5, §6).
let pair: Pair;
let laptop: EmsgClient;
let phone: EmsgClient;
let bob: EmsgClient;
let carol: EmsgClient;
const BOB = "bob#im.bob.test";
const ALICE = "alice#im.alice.test";
const CAROL = "carol#im.alice.test";

beforeAll(async () => {
  pair = await startPair(18917, 19917);
  laptop = (await newClient(pair)).client;
  phone = (await newClient(pair)).client;
  bob = (await newClient(pair)).client;
  carol = (await newClient(pair)).client;
});

afterAll(async () => {
  await pair?.stop();
  await removeClientDirs();
});

const texts = async (client: EmsgClient, peer: string) => (await client.history(peer)).map((m) => m.text);

describe("a text the hub refused because a commit came first", () => {
  it("is encrypted again at the new epoch and reaches every device of the peer, not shown failed", async () => {
    await laptop.register(ALICE, { label: "laptop" });
    await bob.register(BOB, { label: "bob's phone" });
    await befriend(laptop, bob);
    await laptop.sendText(BOB, "the hub is Alice's server");
    await laptop.flush();
    await until("Bob to read Alice", async () => {
      await bob.sync();
      return (await texts(bob, ALICE)).includes("the hub is Alice's server");
    });

    await phone.linkDevice((await laptop.startDeviceLink()).code, { label: "phone" });
    await until("the laptop to add the phone to the conversation", async () => {
      await laptop.sync();
      await phone.sync();
      return (await phone.conversations()).some((c) => c.peer === BOB);
    });

    // Bob has not synced since: his device is still at the epoch before the phone was added.
    const sent = await bob.sendText(ALICE, "written before Bob saw the commit");
    expect(await bob.flush()).toBe(0);
    await until("the phone to read Bob's text", async () => {
      await bob.sync();
      await phone.sync();
      return (await texts(phone, BOB)).includes("written before Bob saw the commit");
    }, 30_000);
    await until("the laptop to read it too", async () => {
      await laptop.sync();
      return (await texts(laptop, BOB)).includes("written before Bob saw the commit");
    });
    const shown = (await bob.history(ALICE)).find((m) => m.id === sent.id);
    expect(shown?.status).not.toBe("failed");
    expect((await bob.history(ALICE)).filter((m) => m.text === "written before Bob saw the commit")).toHaveLength(1);
  });

  it("so is everything else but typing: a reaction, a read receipt, a group's new name, a display name", async () => {
    await carol.register(CAROL);
    await befriend(laptop, carol);
    const { conversation } = await laptop.createGroup("Picnic", [BOB, CAROL]);
    const title = async (client: EmsgClient) => (await client.conversations()).find((c) => c.conversation === conversation)?.title;
    await laptop.sendText(conversation, "who brings the bread?");
    await laptop.flush();
    await until("Bob to read it in the group", async () => {
      await bob.sync();
      return (await texts(bob, conversation)).includes("who brings the bread?");
    });
    const bread = (await laptop.history(conversation)).find((m) => m.text === "who brings the bread?")!;

    await laptop.removeFromGroup(conversation, [CAROL]);
    // Bob has not synced since: all of this is encrypted at the epoch before Carol's removal.
    await bob.react(bread.id, "👍");
    await bob.markRead(conversation);
    await bob.renameGroup(conversation, "Picnic at noon");
    await bob.setProfile("Bob Builder");
    await bob.setTyping(conversation, true);
    expect(await bob.flush()).toBe(0);

    for (const alice of [laptop, phone]) {
      await until(`${alice === laptop ? "the laptop" : "the phone"} to get all of it`, async () => {
        await bob.sync();
        await alice.sync();
        const mine = (await alice.history(conversation)).find((m) => m.id === bread.id);
        const reacted = mine?.reactions?.some((r) => r.by === BOB && r.emoji === "👍" && !r.removed);
        return reacted && mine?.read === true && (await title(alice)) === "Picnic at noon" && (await alice.profiles()).get(bob.address)?.name === "Bob Builder";
      }, 30_000);
      expect((await alice.history(conversation)).filter((m) => m.notice?.type === "renamed")).toHaveLength(1);
      expect((await alice.history(conversation)).filter((m) => m.notice?.type === "unreadable")).toEqual([]);
    }
    expect((await bob.history(conversation)).filter((m) => m.status === "failed")).toEqual([]);
  });
});
