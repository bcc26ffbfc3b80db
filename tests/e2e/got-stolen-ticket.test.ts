// Issue 18 review (got, 30d9726): a hub gives each domain of a conversation, with an entry a remote
// member submitted over a session, that member's session ticket as `authorTicket` (PROTOCOL §9).
// The ticket is also what opens a session as that device (§10). Mallory, a member on a rogue domain
// that signs correctly (im.evil.test), takes Bob's ticket from an entry the hub delivered to her
// domain, opens a session as Bob's only device, and says `got` for what the hub pushes to it: the
// hub then leaves those entries out of Bob's mailbox. Bob, away meanwhile, must still get them.
// A ticket opens one session (PROTOCOL §10): Bob's own opened his, so Mallory's copy is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { jcs } from "../../shared/canonical.js";
import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import { certifyDevice, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { joinFromWelcome, makeKeyPackages, type DeviceIdentity } from "../../shared/mls/index.js";
import { signObject } from "../../shared/signed.js";
import type { ConvPayload, SessionServerFrame } from "../../shared/wire/index.js";
import { connect, until } from "./harness.js";
import { type RogueWorld, startRogueWorld } from "./rogue.js";

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";
const MALLORY = "mallory#im.evil.test";

let world: RogueWorld;
let trip: ConversationSummary;

const account = generateKeyPair();
const malloryKey = generateKeyPair();
const mallory: DeviceIdentity = {
  deviceCert: certifyDevice(account, asAddress(MALLORY), malloryKey.publicKey, "mallory", Date.now()),
  devicePrivateKey: malloryKey.privateKey,
  devicePublicKey: malloryKey.publicKey,
};

type Delivered = { kind: string; item?: ConvPayload; authorTicket?: unknown };

/** Every conv_deliver the hub sent Mallory's domain for the trip. */
function deliveredToMallory(): Delivered[] {
  const items = world.rogue.received.flatMap((r) => (r.path.endsWith("/inbox") ? ((r.body as { items?: Delivered[] }).items ?? []) : []));
  return items.filter((i) => i.kind === "conv_deliver" && i.item?.conversation === trip.conversation);
}

async function texts(who: "alice" | "bob"): Promise<string[]> {
  return (await world[who].history(trip.conversation, { limit: 100 })).filter((m) => !m.notice).map((m) => m.text);
}

beforeAll(async () => {
  world = await startRogueWorld(19742, 20742, 19744);
  const { rogue, pair, alice, bob } = world;
  const request = signObject(account.privateKey, "friend-request", {
    from: MALLORY, to: ALICE, accountKey: toB64u(account.publicKey), created: Date.now(), id: randomId16(), note: "hi Alice",
  });
  expect((await rogue.inbox(pair.alice, "im.alice.test", [{ id: request.body.id, kind: "friend_request", signed: request }])).body).toMatchObject({ results: [{ ok: true }] });
  await until("Alice to see Mallory's request", async () => {
    await alice.sync();
    return (await alice.friends()).find((f) => f.address === MALLORY && f.state === "incoming");
  });
  await alice.acceptFriend(MALLORY);
  const bundles = await makeKeyPackages(mallory, 3);
  let next = 0;
  rogue.answer("/claim", () => ({
    status: 200,
    body: { address: MALLORY, accountKey: toB64u(account.publicKey), devices: [{ deviceCert: mallory.deviceCert, keyPackage: bundles[next++]?.keyPackage ?? null }] },
  }));
  await connect(alice);
  await connect(bob);
  trip = await alice.createGroup("Trip", [BOB, MALLORY]);
  await alice.sendText(trip.conversation, "welcome to the trip");
  await until("Bob to read Alice", async () => (await texts("bob")).includes("welcome to the trip"));
  const welcome = await until("the hub to send Mallory her Welcome", () => deliveredToMallory().find((i) => i.item?.type === "welcome"));
  await joinFromWelcome(mallory, welcome.item!.mls, bundles);
}, 180_000);

afterAll(() => world?.stop());

describe("a rogue member holding Bob's session ticket", () => {
  it("cannot make the hub keep Bob's messages from his mailbox", async () => {
    const { pair, alice, bob } = world;
    // Bob chats over a session: his device says got as a rule, and the hub learns it is his only one.
    expect(await bob.openSession(trip.conversation)).toBe("session");
    await bob.sendText(trip.conversation, "on my way");
    await until("Alice to read Bob", async () => (await texts("alice")).includes("on my way"));
    const stolen = await until("Bob's ticket to reach Mallory's domain", () => deliveredToMallory().find((i) => i.item?.from === BOB && i.authorTicket)?.authorTicket);

    // Mallory's server tries to open a session at the hub with it, as Bob's device: refused.
    const tryStolen = () =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${pair.alice.replace("http", "ws")}/emsg/v1/conversations/${trip.conversation}/session?ticket=${toB64u(new TextEncoder().encode(jcs(stolen)))}`);
        ws.on("unexpected-response", (request, response) => {
          resolve(response.statusCode ?? 0);
          request.destroy();
        });
        ws.on("open", () => {
          resolve(101);
          ws.close();
        });
      });
    expect(await tryStolen()).toBe(401);

    // Bob goes away; Alice writes; the stolen ticket still opens nothing.
    await bob.closeSession(trip.conversation);
    bob.disconnect();
    expect(await tryStolen()).toBe(401);
    await alice.sendText(trip.conversation, "meet at 6");
    // Longer than the hub holds a copy for a got.
    await new Promise((r) => setTimeout(r, 1500));

    await connect(bob);
    await until("Bob, back, to read meet at 6", async () => {
      await bob.sync();
      return (await texts("bob")).includes("meet at 6");
    }, 20_000);
  }, 120_000);
});
