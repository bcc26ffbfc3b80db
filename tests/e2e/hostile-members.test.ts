// Issue 14 item 3: a member of a group, on a domain of its own that signs its requests correctly,
// sends the hub Submits no member's client makes: garbage as a commit, another group's message, a
// real message under another kind (as a commit, it would move the hub's epoch on with nothing
// behind it, and every later genuine message would be stale_epoch). The hub refuses each, and the
// group keeps working (PROTOCOL §6, §8).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import { certifyDevice, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import {
  createGroup,
  encrypt,
  epochOf,
  joinFromWelcome,
  makeKeyPackages,
  processMessage,
  type DeviceIdentity,
  type GroupState,
  type KeyPackageBundle,
} from "../../shared/mls/index.js";
import { encodeContent } from "../../shared/content.js";
import { signObject } from "../../shared/signed.js";
import type { ConvPayload } from "../../shared/wire/index.js";
import { connect, type Pair, until } from "./harness.js";
import { type Rogue, type RogueWorld, startRogueWorld } from "./rogue.js";

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";
const MALLORY = "mallory#im.evil.test";

let world: RogueWorld;
let rogue: Rogue;
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let trip: ConversationSummary;

/** Mallory, a member whose device and server are the rogue's: her keys, her KeyPackages, her view of the group. */
const account = generateKeyPair();
const malloryKey = generateKeyPair();
const mallory: DeviceIdentity = {
  deviceCert: certifyDevice(account, asAddress(MALLORY), malloryKey.publicKey, "mallory", Date.now()),
  devicePrivateKey: malloryKey.privateKey,
  devicePublicKey: malloryKey.publicKey,
};
let bundles: KeyPackageBundle[] = [];
let group: GroupState;

/** Every conversation item the hub fanned out to Mallory's domain, in hub order. */
function deliveredToMallory(): ConvPayload[] {
  const items = rogue.received.flatMap((r) => (r.path.endsWith("/inbox") ? ((r.body as { items: { kind: string; item?: ConvPayload }[] }).items ?? []) : []));
  return items.flatMap((i) => (i.kind === "conv_deliver" && i.item?.conversation === trip.conversation ? [i.item] : [])).sort((a, b) => a.hubSeq - b.hubSeq);
}

/** Mallory's server hands the hub her Submits, correctly signed; the hub's result for each. */
async function submitAsMallory(submits: Record<string, unknown>[]): Promise<{ id: string; ok?: true; error?: string }[]> {
  const items = submits.map((submit) => ({ id: submit.id, kind: "conv_submit", conversation: trip.conversation, from: MALLORY, deviceId: mallory.deviceCert.body.deviceId, submit }));
  const res = await rogue.inbox(pair.alice, "im.alice.test", items);
  expect(res.status).toBe(200);
  return (res.body as { results: { id: string; ok?: true; error?: string }[] }).results;
}

/** The plaintext of a text message, as a client encodes it (PROTOCOL §8.1). */
function text(body: string): Uint8Array {
  return encodeContent({ v: 1, id: randomId16(), sentAt: Date.now(), type: "text", text: body });
}

async function texts(client: EmsgClient): Promise<string[]> {
  return (await client.history(trip.conversation, { limit: 100 })).filter((m) => !m.notice).map((m) => `${m.from.split("#")[0]}: ${m.text}`);
}

beforeAll(async () => {
  world = await startRogueWorld(18857, 19857, 18859);
  ({ rogue, pair, alice, bob } = world);

  // Mallory asks Alice to be friends, from her own domain, and Alice accepts.
  const request = signObject(account.privateKey, "friend-request", {
    from: MALLORY, to: ALICE, accountKey: toB64u(account.publicKey), created: Date.now(), id: randomId16(), note: "hi Alice",
  });
  expect((await rogue.inbox(pair.alice, "im.alice.test", [{ id: request.body.id, kind: "friend_request", signed: request }])).body).toMatchObject({ results: [{ ok: true }] });
  await until("Alice to see Mallory's request", async () => {
    await alice.sync();
    return (await alice.friends()).find((f) => f.address === MALLORY && f.state === "incoming");
  });
  await alice.acceptFriend(MALLORY);

  // Mallory's server answers claims for her with her KeyPackages, as any server does.
  bundles = await makeKeyPackages(mallory, 3);
  let next = 0;
  rogue.answer("/claim", () => ({
    status: 200,
    body: { address: MALLORY, accountKey: toB64u(account.publicKey), devices: [{ deviceCert: mallory.deviceCert, keyPackage: bundles[next++]?.keyPackage ?? null }] },
  }));

  await connect(alice);
  await connect(bob);
  trip = await alice.createGroup("Trip", [BOB, MALLORY]);
  await alice.sendText(trip.conversation, "welcome to the trip");
  await until("Bob to read Alice", async () => (await texts(bob)).includes("alice: welcome to the trip"));

  // Mallory joins from the Welcome the hub sent her domain, and follows the group from there.
  const welcome = await until("the hub to send Mallory her Welcome", () => deliveredToMallory().find((i) => i.type === "welcome"));
  group = (await joinFromWelcome(mallory, welcome.mls, bundles)).state;
  for (const item of deliveredToMallory().filter((i) => i.hubSeq > welcome.hubSeq && i.type === "commit")) group = (await processMessage(group, item.mls)).state;
}, 180_000);

afterAll(() => world?.stop());

describe("a hostile member's Submits", () => {
  it("are refused by the hub, and the group keeps working", async () => {
    const epoch = epochOf(group);
    const elsewhere = await encrypt(await createGroup(mallory, `im.alice.test/${randomId16()}`), new TextEncoder().encode("wrong group"));
    const real = await encrypt(group, text("not what it says"));
    group = real.state;
    const hostile = [
      // Garbage as a commit at the hub's epoch: before, it moved the epoch on and stuck the group.
      { id: randomId16(), epoch, kind: "commit", mls: toB64u(crypto.getRandomValues(new Uint8Array(400))) },
      // Another group's real message.
      { id: randomId16(), epoch: 0, kind: "application", mls: elsewhere.mls },
      // A real message of this group, under kinds it is not.
      { id: randomId16(), epoch, kind: "commit", mls: real.mls },
      { id: randomId16(), epoch, kind: "proposal", mls: real.mls },
    ];
    const results = await submitAsMallory(hostile);
    expect(results).toEqual(hostile.map((h) => expect.objectContaining({ id: h.id, error: "bad_request" })));

    // The group goes on: a genuine message from each member arrives and is read by the others.
    await bob.sendText(trip.conversation, "still here?");
    await until("Alice to read Bob", async () => (await texts(alice)).includes("bob: still here?"));
    await alice.sendText(trip.conversation, "yes");
    await until("Bob to read Alice", async () => (await texts(bob)).includes("alice: yes"));
    const genuine = await encrypt(group, text("hello from mallory"));
    group = genuine.state;
    expect(await submitAsMallory([{ id: randomId16(), epoch: epochOf(group), kind: "application", mls: genuine.mls }])).toMatchObject([{ ok: true }]);
    await until("Alice to read Mallory", async () => (await texts(alice)).includes("mallory: hello from mallory"));
    await until("Bob to read Mallory", async () => (await texts(bob)).includes("mallory: hello from mallory"));
    // Nothing refused reached anyone.
    for (const client of [alice, bob]) expect((await texts(client)).filter((t) => t.includes("not what it says") || t.includes("wrong group"))).toEqual([]);
  }, 120_000);
});
