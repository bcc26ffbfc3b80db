// Issue 14 item 1: a rogue domain claims one of bob's KeyPackages, builds an MLS group of its own
// with him and delivers the Welcome to bob's server claiming to come from alice, bob's friend.
// Whatever the servers let through, bob's client must not take it for his 1:1 with alice: what he
// writes to alice reaches alice, and nothing he writes reaches the rogue (PROTOCOL §8).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import { fromB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, type DeviceIdentity } from "../../shared/mls/index.js";
import { connect, type Pair, until } from "./harness.js";
import { type Rogue, rogueDevice, type RogueWorld, startRogueWorld } from "./rogue.js";

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";
const MALLORY = "mallory#im.evil.test";

let world: RogueWorld;
let rogue: Rogue;
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
/** Bob's real 1:1 with alice, hosted by im.alice.test. */
let real: string;

beforeAll(async () => {
  world = await startRogueWorld(18867, 19867, 18869);
  ({ rogue, pair, alice, bob } = world);
  await bob.setSettings({ strangers: "accept" });
  await connect(alice);
  await connect(bob);
  await alice.sendText(BOB, "hi bob");
  real = (await until("Bob to join the 1:1 with Alice", async () => (await bob.conversations()).find((c) => c.peer === ALICE)))!.conversation;
}, 120_000);

afterAll(() => world?.stop());

/**
 * The rogue claims a KeyPackage of bob's device over federation, as any peer may, makes a group of
 * `device` and bob, and delivers its Welcome to bob's server saying it is `from`, with `members`.
 * Returns the conversation and the result bob's server gave the item.
 */
async function rogueWelcome(device: DeviceIdentity, from: string, members: string[]) {
  const claim = await rogue.post(pair.bob, "im.bob.test", "/claim", { address: BOB });
  expect(claim.status).toBe(200);
  const keyPackage = (claim.body as { devices: { keyPackage: string | null }[] }).devices[0]!.keyPackage!;
  const conversation = `im.evil.test/${randomId16()}`;
  const added = await addMembers(await createGroup(device, conversation), [keyPackage]);
  const item = {
    conversation, id: randomId16(), hubSeq: 1, from, deviceId: device.deviceCert.body.deviceId, epoch: 0,
    type: "welcome", mls: added.welcome, members, at: Date.now(),
  };
  const sent = await rogue.inbox(pair.bob, "im.bob.test", [{ id: randomId16(), kind: "conv_deliver", conversation, to: [BOB], item }]);
  expect(sent.status).toBe(200);
  return { conversation, result: (sent.body as { results: ({ ok: true } | { error: string })[] }).results[0]! };
}

async function summaryOf(conversation: string): Promise<ConversationSummary | undefined> {
  return (await bob.conversations()).find((c) => c.conversation === conversation);
}


/** What bob's server passed on to the rogue's hub as bob's: nothing of this, ever. */
function submitsFromBob(): unknown[] {
  return rogue.received.flatMap((r) => ((r.body as { items?: { kind?: string; from?: string }[] })?.items ?? []))
    .filter((i) => i.kind === "conv_submit" && i.from === BOB);
}

/** Bob writes to alice by her address; it must go to their real 1:1 and reach her. */
async function bobWritesToAlice(text: string): Promise<void> {
  const sent = await bob.sendText(ALICE, text);
  expect(sent.conversation).toBe(real);
  await until(`Alice to receive "${text}"`, async () => (await alice.history(BOB)).some((m) => m.text === text));
}

describe("a rogue domain posing as a friend's conversation", () => {
  it("a group of the rogue's own user and bob, labelled from alice with members alice and bob, is not bob's 1:1 with alice", async () => {
    const mallory = rogueDevice(MALLORY);
    // The roster and author the rogue claims: the servers may refuse a stranger claiming to be a
    // friend; if they let it through, the client must see through it.
    const asAlice = await rogueWelcome(mallory, ALICE, [ALICE, BOB]);
    // Said to be from the rogue's own user, so bob's server (strangers: accept) surely passes it on.
    const asMallory = await rogueWelcome(rogueDevice(MALLORY), MALLORY, [ALICE, BOB]);
    expect(asMallory.result).toEqual(expect.objectContaining({ ok: true }));

    const seen = await until("Bob's client to file the rogue's group", async () => {
      await bob.sync();
      return summaryOf(asMallory.conversation);
    });
    await bobWritesToAlice("only for alice");
    expect(submitsFromBob()).toEqual([]);

    // Filed as what its tree holds: mallory and bob, whatever the server said.
    expect(seen).toMatchObject({ kind: "direct", peer: MALLORY, members: [MALLORY, BOB] });
    if ("ok" in asAlice.result) expect(await summaryOf(asAlice.conversation)).toMatchObject({ peer: MALLORY, members: [MALLORY, BOB] });
    expect((await bob.conversations()).filter((c) => c.peer === ALICE).map((c) => c.conversation)).toEqual([real]);
  });

  it("a Welcome whose tree holds a device claiming to be alice, certified by the rogue's key, is marked unsafe", async () => {
    const fakeAlice = rogueDevice(ALICE);
    const asAlice = await rogueWelcome(fakeAlice, ALICE, [ALICE, BOB]);
    const asMallory = await rogueWelcome(rogueDevice(ALICE), MALLORY, [ALICE, BOB]);
    expect(asMallory.result).toEqual(expect.objectContaining({ ok: true }));

    const seen = await until("Bob's client to refuse the impostor's group", async () => {
      await bob.sync();
      return summaryOf(asMallory.conversation);
    });
    expect(seen.unsafe).toMatch(/alice#im\.alice\.test.*not certified by the account key pinned/);
    if ("ok" in asAlice.result) expect((await summaryOf(asAlice.conversation))?.unsafe).toMatch(/not certified/);
    await expect(bob.sendText(asMallory.conversation, "who is this?")).rejects.toMatchObject({ code: "unauthorized" });

    await bobWritesToAlice("still only for alice");
    expect(submitsFromBob()).toEqual([]);
  });

  it("a Welcome holding a device certified by alice's own account key, as a device she removed can make, but not on her server's device list, is marked unsafe", async () => {
    const { accountPublicKey, accountPrivateKey } = alice.account!;
    const aliceKey = { publicKey: fromB64u(accountPublicKey), privateKey: fromB64u(accountPrivateKey) };
    const asMallory = await rogueWelcome(rogueDevice(ALICE, aliceKey), MALLORY, [ALICE, BOB]);
    expect(asMallory.result).toEqual(expect.objectContaining({ ok: true }));

    const seen = await until("Bob's client to refuse the unlisted device's group", async () => {
      await bob.sync();
      return summaryOf(asMallory.conversation);
    });
    expect(seen.unsafe).toMatch(/claims to be alice#im\.alice\.test but is not one of its devices/);
    await expect(bob.sendText(asMallory.conversation, "is this you?")).rejects.toMatchObject({ code: "unauthorized" });
    await bobWritesToAlice("and again only for alice");
    expect(submitsFromBob()).toEqual([]);
  });
});
