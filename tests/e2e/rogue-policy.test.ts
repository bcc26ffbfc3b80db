// Issue 14 items 2, 6 and 7, against two real servers and a rogue domain that signs correctly:
// a hub's claim about who wrote an item, a bounce for a request the rogue was never sent, and
// requests naming made-up accounts, none of which may get past bob's server or leave anything there.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asAddress } from "../../shared/address.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { CLIENT_COMPONENTS, deviceKeyId, signMessage } from "../../shared/http-signature.js";
import { deviceIdOf, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup } from "../../shared/mls/index.js";
import { connect, newClient, type Pair, until } from "./harness.js";
import { type Rogue, rogueDevice, type RogueWorld, startRogueWorld } from "./rogue.js";

const ALICE = "alice#im.alice.test";
const CAROL = "carol#im.alice.test";
const BOB = "bob#im.bob.test";
const MALLORY = "mallory#im.evil.test";

let world: RogueWorld;
let rogue: Rogue;
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;

beforeAll(async () => {
  world = await startRogueWorld(18877, 19877, 18879);
  ({ rogue, pair, alice, bob } = world);
  // Friends only from now on.
  await bob.setSettings({ strangers: "refuse" });
  await connect(alice);
  await connect(bob);
}, 120_000);

afterAll(() => world?.stop());

type Result = { id: string; ok?: true; error?: string };

/** A conv_deliver of the rogue's hub to bob; returns the result bob's server gave it. */
async function deliverToBob(item: Record<string, unknown>): Promise<Result> {
  const sent = await rogue.inbox(pair.bob, "im.bob.test", [{ id: randomId16(), kind: "conv_deliver", conversation: item.conversation, to: [BOB], item }]);
  expect(sent.status).toBe(200);
  return (sent.body as { results: Result[] }).results[0]!;
}

/** What bob's server sent the rogue: bounces of its items, by ref. */
function bouncesToRogue(): { ref: string; error: string }[] {
  return rogue.received.flatMap((r) => ((r.body as { items?: { kind?: string; ref: string; error: string }[] })?.items ?? []).filter((i) => i.kind === "bounce"));
}

describe("a rogue hub naming bob's friend as the author (item 2)", () => {
  it("is refused: bob sees nothing, the conversation is not joined, and a stranger's later item in it is refused too", async () => {
    // A real MLS Welcome for bob, from a group of the rogue's making, said to come from alice.
    const claim = await rogue.post(pair.bob, "im.bob.test", "/claim", { address: BOB });
    expect(claim.status).toBe(200);
    const keyPackage = (claim.body as { devices: { keyPackage: string | null }[] }).devices[0]!.keyPackage!;
    const conversation = `im.evil.test/${randomId16()}`;
    const device = rogueDevice(ALICE);
    const added = await addMembers(await createGroup(device, conversation), [keyPackage]);
    const welcome = {
      conversation, id: randomId16(), hubSeq: 1, from: ALICE, deviceId: device.deviceCert.body.deviceId, epoch: 0,
      type: "welcome", mls: added.welcome, members: [ALICE, BOB], at: Date.now(),
    };
    expect(await deliverToBob(welcome)).toMatchObject({ ok: true });
    // Had the claim joined bob to it, the rogue's own user would now reach him there.
    const stranger = { ...welcome, id: randomId16(), hubSeq: 2, from: MALLORY, type: "application", mls: added.commit, members: undefined };
    expect(await deliverToBob(stranger)).toMatchObject({ ok: true });
    const refused = await until("Bob's server to bounce the stranger's item to the rogue", () => bouncesToRogue().find((b) => b.ref === stranger.id));
    expect(refused.error).toBe("stranger_refused");

    // A real message of alice's, stored after the rogue's items, reaches bob; the rogue's do not.
    await alice.sendText(BOB, "the real alice");
    await until("Bob to receive alice's message", async () => (await bob.history(ALICE)).some((m) => m.text === "the real alice"));
    expect((await bob.conversations()).some((c) => c.conversation === conversation)).toBe(false);
  });
});

describe("a forged bounce (item 6)", () => {
  it("of bob's friend request to a user of alice's domain, sent by the rogue, is refused and the request stays outgoing", async () => {
    const carol = (await newClient(pair)).client;
    await carol.register(CAROL, { label: "carol" });
    await carol.setSettings({ strangers: "review" });
    await bob.sendFriendRequest(CAROL, "hi Carol");
    const forged = await rogue.inbox(pair.bob, "im.bob.test", [{ id: randomId16(), kind: "bounce", sender: BOB, ref: randomId16(), to: CAROL, error: "stranger_refused" }]);
    expect(forged.status).toBe(200);
    expect((forged.body as { results: Result[] }).results[0]).toMatchObject({ error: "forbidden" });
    await bob.sync();
    expect((await bob.friends()).find((f) => f.address === CAROL)).toMatchObject({ state: "outgoing" });
    await until("Carol's server to hold bob's request", async () => {
      await carol.sync();
      return (await carol.friends()).find((f) => f.address === BOB);
    });
  });
});

describe("requests naming made-up accounts (item 7)", () => {
  async function sqliteFiles(dir: string): Promise<number> {
    let n = 0;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) n += await sqliteFiles(join(dir, entry.name));
      else if (entry.name.endsWith(".sqlite")) n++;
    }
    return n;
  }

  it("badly signed or open, they get 401, 404 or 429 and create no storage", async () => {
    const before = await sqliteFiles(pair.persistRoot);
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const address = `ghost${i}x${randomId16().slice(0, 6).toLowerCase().replace(/[^a-z0-9]/g, "q")}#im.bob.test`;
      const device = generateKeyPair();
      const url = `${pair.bob}/emsg/v1/mailbox`;
      const headers = { "emsg-to": "im.bob.test" };
      const sig = signMessage(
        { method: "GET", url, headers },
        // Signed with a key that is not the device's: the device does not exist either.
        { keyId: deviceKeyId(asAddress(address), deviceIdOf(device.publicKey)), privateKey: generateKeyPair().privateKey, created: Math.floor(Date.now() / 1000), nonce: randomId16(), components: CLIENT_COMPONENTS },
      );
      statuses.add((await fetch(url, { headers: { ...headers, ...sig } })).status);
      if (i % 10 === 0) statuses.add((await fetch(`${pair.bob}/emsg/v1/links/${encodeURIComponent(address)}/${randomId16()}`)).status);
    }
    expect([...statuses].every((s) => s === 401 || s === 404 || s === 429)).toBe(true);
    expect(await sqliteFiles(pair.persistRoot)).toBe(before);
  });
});
