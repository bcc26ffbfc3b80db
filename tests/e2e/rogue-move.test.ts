// Issue 14 item 5, moves: a device alice removed keeps her account key, so it can sign a `moved`
// notice. Against two real servers and a rogue domain, it tries to move alice to
// mallory#im.evil.test, by her own server (POST /account/moved) and by a friend request to bob
// that carries the notice; bob must keep alice, and what he writes must reach her, not the rogue.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { loadAccount, type AccountRecord } from "../../shared/client/account-record.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { systemClock } from "../../shared/client/transport.js";
import { deviceKeyId } from "../../shared/http-signature.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signMoved } from "../../shared/move.js";
import { signObject } from "../../shared/signed.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { connect, newClient, type Pair, until, codeOf } from "./harness.js";
import { type Rogue, type RogueWorld, startRogueWorld } from "./rogue.js";

const ALICE = "alice#im.alice.test" as Address;
const BOB = "bob#im.bob.test" as Address;
const MALLORY = "mallory#im.evil.test" as Address;

let world: RogueWorld;
let rogue: Rogue;
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
/** What the phone alice removed still holds: her account key, and its own device key. */
let phone: AccountRecord;
/** An export the phone made while it was still alice's. */
let phoneArchive: unknown;
const PASSPHRASE = "the phone's export passphrase";
const mallory = generateKeyPair();

beforeAll(async () => {
  world = await startRogueWorld(18991, 19991, 18993);
  ({ rogue, pair, alice, bob } = world);
  // Friends only: a stranger's request would be refused outright.
  await bob.setSettings({ strangers: "refuse" });
  const { client: linked, dir } = await newClient(pair);
  await linked.linkDevice((await alice.startDeviceLink()).code, { label: "phone" });
  phone = (await loadAccount(new FileStore(dir)))!;
  phoneArchive = await linked.exportAccount(PASSPHRASE, { N: 1024 });
  await alice.removeDevice(phone.deviceId);
  await connect(alice);
  await connect(bob);
}, 240_000);

afterAll(() => world?.stop());

async function texts(client: EmsgClient, peer: string): Promise<string[]> {
  return (await client.history(peer, { limit: 500 })).map((m) => m.text);
}

/** The move the removed phone can sign with alice's account key: to mallory, with the rogue's key. */
function moveToMallory() {
  return signMoved(phone.accountPrivateKey, { from: ALICE, to: MALLORY, accountKey: toB64u(mallory.publicKey), at: Date.now() });
}

describe("a device alice removed, which kept her account key, moving her away", () => {
  it("is refused by alice's server, signed as itself or not signed at all: nobody is told", async () => {
    const asPhone = new ServerApi(nodeTransport, systemClock, pair.alice, phone.domain);
    asPhone.setSigner({ keyId: deviceKeyId(ALICE, phone.deviceId), privateKey: fromB64u(phone.devicePrivateKey) });
    expect(await codeOf(asPhone.call("POST", "/account/moved", { notice: moveToMallory() }))).toBe("device_removed");
    const unsigned = new ServerApi(nodeTransport, systemClock, pair.alice, phone.domain);
    expect(await codeOf(unsigned.call("POST", "/account/moved", { notice: moveToMallory() }))).toBe("unauthorized");
    await bob.sync();
    expect((await bob.friends()).find((f) => f.address === ALICE)?.movedTo).toBeUndefined();
  });

  it("by a friend request from mallory carrying the notice: bob keeps alice pinned, mallory is only a request", async () => {
    const notice = moveToMallory();
    const request = signObject(mallory.privateKey, "friend-request", {
      from: MALLORY, to: BOB, accountKey: toB64u(mallory.publicKey), created: Date.now(), id: randomId16(), note: "new address", moved: notice,
    });
    const sent = await rogue.inbox(pair.bob, "im.bob.test", [{ id: request.body.id, kind: "friend_request", signed: request }]);
    expect(sent.body).toMatchObject({ results: [{ ok: true }] });
    // A rogue's own moved item about alice is not believed either: only alice's server speaks for her.
    const forged = await rogue.inbox(pair.bob, "im.bob.test", [{ id: randomId16(), kind: "moved", to: [BOB], signed: notice }]);
    expect(forged.body).toMatchObject({ results: [{ error: "forbidden" }] });

    const seen = await until("bob's client to show mallory's request", async () => {
      await bob.sync();
      return (await bob.friends()).find((f) => f.address === MALLORY);
    });
    expect(seen).toMatchObject({ state: "incoming" });
    const pinned = (await bob.friends()).find((f) => f.address === ALICE);
    expect(pinned).toMatchObject({ state: "friend", accountKey: alice.account!.accountPublicKey });
    expect(pinned?.movedTo).toBeUndefined();
  });

  it("by importing the export the phone made before it was removed: the old server refuses the notice, bob keeps alice", async () => {
    const thief = (await newClient(pair)).client;
    const result = await thief.importAccount(phoneArchive, PASSPHRASE, "alice#im.bob.test", { label: "not alice" });
    // What the importing person is told: the old server did not announce the move.
    expect(result).toMatchObject({ address: "alice#im.bob.test", friends: 1, announced: true, told: null, announceError: "device_removed" });
    await until("bob's client to show the new address's request", async () => {
      await bob.sync();
      return (await bob.friends()).find((f) => f.address === "alice#im.bob.test");
    });
    const all = await bob.friends();
    expect(all.find((f) => f.address === "alice#im.bob.test")).toMatchObject({ state: "incoming" });
    expect(all.find((f) => f.address === ALICE)?.movedTo).toBeUndefined();
    thief.disconnect();
  });

  it("leaves messages flowing both ways between bob and alice, and sends nothing to the rogue", async () => {
    await bob.sendText(ALICE, "are you still there?");
    await until("alice to read bob", async () => {
      await alice.sync();
      return (await texts(alice, BOB)).includes("are you still there?");
    });
    await alice.sendText(BOB, "yes, I never moved");
    await until("bob to read alice", async () => {
      await bob.sync();
      return (await texts(bob, ALICE)).includes("yes, I never moved");
    });
    // Bob's client owes mallory no accept and writes nothing there: the rogue heard nothing from bob's server.
    expect(rogue.received.map((r) => r.path)).toEqual([]);
  });
});
