// Issue 14 item 5, moves: a friend's server and client make the new address a friend only on the
// old server's `moved` notice, never on the friend request that carries it. Whichever of the two
// reaches bob first, the end must be the same: the new address a friend on both sides and messages
// flowing both ways, with bob and both movers accepting friends only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { fromB64u } from "../../shared/base64url.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { systemClock } from "../../shared/client/transport.js";
import { deviceKeyId } from "../../shared/http-signature.js";
import { signMoved } from "../../shared/move.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { befriend, connect, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

const BOB = "bob#im.bob.test" as Address;
const PASSPHRASE = "a long and memorable passphrase";

let pair: Pair;
let bob: EmsgClient;
const clients: EmsgClient[] = [];

async function client(): Promise<EmsgClient> {
  const made = (await newClient(pair)).client;
  clients.push(made);
  return made;
}

/** A registered friend of bob's; from then on both accept friends only. */
async function friendOfBob(address: string): Promise<EmsgClient> {
  const friend = await client();
  await friend.register(address, { label: "laptop" });
  await bob.setSettings({ strangers: "accept" });
  await befriend(friend, bob);
  await friend.setSettings({ strangers: "refuse" });
  await bob.setSettings({ strangers: "refuse" });
  return friend;
}

async function texts(c: EmsgClient, peer: string): Promise<string[]> {
  return (await c.history(peer, { limit: 500 })).map((m) => m.text);
}

/** Bob writes to the old address and the mover reads it at the new one; then the other way. */
async function bothWays(old: Address, moved: EmsgClient): Promise<void> {
  await connect(moved);
  await bob.sendText(old, `hello ${old}`);
  await until(`${moved.address} to read bob`, async () => {
    await moved.sync();
    return (await texts(moved, BOB)).includes(`hello ${old}`);
  }, 40_000);
  await moved.sendText(BOB, `this is ${moved.address}`);
  await until(`bob to read ${moved.address}`, async () => {
    await bob.sync();
    return (await texts(bob, moved.address)).includes(`this is ${moved.address}`);
  }, 40_000);
}

async function seenMoved(old: Address, to: Address) {
  return until(`bob's client to show ${old} moved`, async () => {
    await bob.sync();
    const all = await bob.friends();
    return all.find((f) => f.address === old)?.movedTo === to && all.find((f) => f.address === to && f.state === "friend");
  }, 40_000);
}

beforeAll(async () => {
  pair = await startPair(18995, 19995);
  bob = await client();
  await bob.register(BOB, { label: "bob phone" });
  await connect(bob);
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

describe("a friend's move, in either order of request and notice", () => {
  it("request first: the new address on bob's own server asks him at once, alice's server tells him later", async () => {
    const OLD = "alice#im.alice.test" as Address;
    const NEW = "alice#im.bob.test" as Address;
    const alice = await friendOfBob(OLD);
    const archive = await alice.exportAccount(PASSPHRASE, { N: 1024 });
    const moved = await client();
    const result = await moved.importAccount(archive, PASSPHRASE, NEW, { label: "new phone" });
    expect(result).toMatchObject({ announced: true, told: 1, announceError: null, done: true });
    expect(await seenMoved(OLD, NEW)).toMatchObject({ accountKey: moved.account!.accountPublicKey, movedFrom: OLD });
    await bothWays(OLD, moved);
  });

  it("notice first: carol's server tells bob before the new address's request reaches him", async () => {
    const OLD = "carol#im.bob.test" as Address;
    const NEW = "carol#im.alice.test" as Address;
    const carol = await friendOfBob(OLD);
    const moved = await client();
    await moved.register(NEW, { label: "new phone" });
    // Carol's laptop, a current device, hands the notice in before anything is imported.
    const asLaptop = new ServerApi(nodeTransport, systemClock, pair.bob, carol.account!.domain);
    asLaptop.setSigner({ keyId: deviceKeyId(OLD, carol.account!.deviceId), privateKey: fromB64u(carol.account!.devicePrivateKey) });
    const notice = signMoved(carol.account!.accountPrivateKey, { from: OLD, to: NEW, accountKey: moved.account!.accountPublicKey, at: Date.now() });
    expect(await asLaptop.call("POST", "/account/moved", { notice })).toEqual({ told: 1 });
    expect(await seenMoved(OLD, NEW)).toMatchObject({ accountKey: moved.account!.accountPublicKey, movedFrom: OLD });
    // Now the request: the new device takes the export into the account it holds.
    const result = await moved.importAccount(await carol.exportAccount(PASSPHRASE, { N: 1024 }), PASSPHRASE);
    expect(result).toMatchObject({ address: NEW, friends: 1, announced: true, announceError: null, done: true });
    await bothWays(OLD, moved);
    expect((await bob.friends()).filter((f) => f.state === "incoming")).toEqual([]);
  });
});
