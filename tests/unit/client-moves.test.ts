import { describe, expect, it } from "vitest";
import { type Address, asAddress, type Domain, domainOf } from "../../shared/address.js";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { certifyDevice, generateKeyPair, keyIdOf, type KeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signObject } from "../../shared/signed.js";
import type { MailItem, SignedMoved } from "../../shared/wire/index.js";
import type { AccountRecord } from "../../shared/client/account-record.js";
import type { ClientEvents, CoreContext } from "../../shared/client/context.js";
import { saveConversation } from "../../shared/client/conversation-record.js";
import { Emitter } from "../../shared/client/events.js";
import { followMove, payOwedAccepts } from "../../shared/client/friend-moves.js";
import { continueMove, exportAccount, restoreFriends } from "../../shared/client/account-move.js";
import { type ArchiveContents, readAccountArchive } from "../../shared/account-archive.js";
import { buildDiscoveryDoc } from "../../shared/discovery.js";
import { CLIENT_COMPONENTS, parseSignature, verifyMessage } from "../../shared/http-signature.js";
import { type Friend, getFriend, listFriends } from "../../shared/client/friends.js";
import { applyItems } from "../../shared/client/mailbox-sync.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { HttpRequest, Transport } from "../../shared/client/transport.js";

// Mailbox items are fed straight in; the one network attempt (an owed accept) finds no server.
const offline: Transport = {
  fetch: () => Promise.reject(new Error("no network in this test")),
  openSocket: () => {
    throw new Error("no network in this test");
  },
};

const NOW = 1_760_000_000_000;

interface Person {
  ctx: CoreContext;
  address: Address;
  keys: KeyPair;
}

function person(addressText: string): Person {
  const address = asAddress(addressText);
  const keys = generateKeyPair();
  const deviceKeys = generateKeyPair();
  const deviceCert = certifyDevice(keys, address, deviceKeys.publicKey, "test", NOW);
  const account: AccountRecord = {
    address,
    domain: domainOf(address),
    origin: "http://127.0.0.1:9",
    accountPublicKey: toB64u(keys.publicKey),
    accountPrivateKey: toB64u(keys.privateKey),
    deviceId: deviceCert.body.deviceId,
    devicePublicKey: toB64u(deviceKeys.publicKey),
    devicePrivateKey: toB64u(deviceKeys.privateKey),
    deviceCert,
    created: NOW,
  };
  const clock = { now: () => NOW };
  const ctx: CoreContext = { store: new MemoryStore(), api: new ServerApi(offline, clock, account.origin, account.domain), clock, account, events: new Emitter<ClientEvents>() };
  return { ctx, address, keys };
}

async function pin(bob: Person, friend: Partial<Friend> & { address: Address; accountKey: string }): Promise<void> {
  await bob.ctx.store.put(`friend/${friend.address}`, { state: "friend", since: NOW, ...friend });
}

function notice(from: Address, to: Address, newKey: KeyPair, signer: KeyPair, at = NOW + 1000): SignedMoved {
  return signObject(signer.privateKey, "moved", { from, to, accountKey: toB64u(newKey.publicKey), at }) as SignedMoved;
}

function request(from: Address, key: KeyPair, to: Address, moved?: SignedMoved) {
  return signObject(key.privateKey, "friend-request", {
    from, to, accountKey: toB64u(key.publicKey), created: NOW + 2000, id: randomId16(), note: "", ...(moved ? { moved } : {}),
  });
}

let seq = 0;
const movedItem = (signed: SignedMoved): MailItem => ({ seq: ++seq, at: NOW + 5000, kind: "moved", signed }) as MailItem;
const requestItem = (signed: unknown): MailItem => ({ seq: ++seq, at: NOW + 5000, kind: "friend_request", signed }) as MailItem;
const apply = (p: Person, items: MailItem[]) => applyItems(p.ctx, items, async () => undefined);
const owed = async (p: Person) => (await p.ctx.store.list("owed-accept/")).map(([key]) => key.slice("owed-accept/".length));

const NEW = "alice#im.carol.test" as Address;

function world() {
  const alice = person("alice#im.alice.test");
  const bob = person("bob#im.bob.test");
  const newKey = generateKeyPair();
  return { alice, bob, newKey };
}

describe("a friend's move, as the friend's client sees it", () => {
  it("pins the new address with the new key, marks the old one moved, and sends there from now on", async () => {
    const { alice, bob, newKey } = world();
    await pin(bob, { address: alice.address, accountKey: toB64u(alice.keys.publicKey) });
    const conversation = `im.alice.test/${randomId16()}`;
    await saveConversation(bob.ctx, { conversation, members: [bob.address, alice.address], peer: alice.address, group: "", epoch: 1, lastHubSeq: 3, created: NOW, unread: 0 });
    const changed: Friend[] = [];
    bob.ctx.events.on("friend", (f) => changed.push(f));

    await apply(bob, [movedItem(notice(alice.address, NEW, newKey, alice.keys))]);

    expect(await getFriend(bob.ctx, NEW)).toMatchObject({ state: "friend", accountKey: toB64u(newKey.publicKey), movedFrom: alice.address });
    expect(await getFriend(bob.ctx, alice.address)).toMatchObject({ state: "friend", movedTo: NEW, accountKey: toB64u(alice.keys.publicKey) });
    expect(changed.map((f) => f.address)).toEqual([NEW, alice.address]);
    expect(await followMove(bob.ctx, alice.address)).toBe(NEW);
    expect(await followMove(bob.ctx, conversation)).toBe(NEW);
    expect(await followMove(bob.ctx, "carol#im.carol.test")).toBe("carol#im.carol.test");
    // The new address's server learns from this accept that Bob is a friend, even before its request arrives.
    expect(await owed(bob)).toEqual([NEW]);
  });

  it("ignores a forged notice, one from someone not a friend, and one about itself", async () => {
    const { alice, bob, newKey } = world();
    const mallory = generateKeyPair();
    await pin(bob, { address: alice.address, accountKey: toB64u(alice.keys.publicKey) });
    const stranger = person("eve#im.eve.test");
    await pin(bob, { address: stranger.address, accountKey: toB64u(stranger.keys.publicKey), state: "incoming" });
    await apply(bob, [
      movedItem(notice(alice.address, NEW, newKey, mallory)),
      movedItem(notice(alice.address, NEW, newKey, newKey)),
      movedItem(notice(stranger.address, "eve#im.carol.test" as Address, newKey, stranger.keys)),
      movedItem(notice(alice.address, alice.address, newKey, alice.keys)),
      movedItem(notice(alice.address, bob.address, newKey, alice.keys)),
    ]);
    expect((await listFriends(bob.ctx)).map((f) => [f.address, f.state, f.movedTo ?? null])).toEqual([
      [alice.address, "friend", null],
      [stranger.address, "incoming", null],
    ]);
    expect(await followMove(bob.ctx, alice.address)).toBe(alice.address);
    expect(await owed(bob)).toEqual([]);
  });

  it("keeps a friend pinned with another key when a move names their address, and ignores an older notice", async () => {
    const { alice, bob, newKey } = world();
    const carol = person("carol#im.carol.test");
    await pin(bob, { address: alice.address, accountKey: toB64u(alice.keys.publicKey) });
    await pin(bob, { address: carol.address, accountKey: toB64u(carol.keys.publicKey) });
    await apply(bob, [movedItem(notice(alice.address, carol.address, newKey, alice.keys))]);
    expect(await getFriend(bob.ctx, carol.address)).toMatchObject({ accountKey: toB64u(carol.keys.publicKey) });
    expect((await getFriend(bob.ctx, alice.address))?.movedTo).toBeUndefined();

    await apply(bob, [movedItem(notice(alice.address, NEW, newKey, alice.keys, NOW + 9000))]);
    await apply(bob, [movedItem(notice(alice.address, "alice#im.old.test" as Address, generateKeyPair(), alice.keys, NOW + 1))]);
    expect((await getFriend(bob.ctx, alice.address))?.movedTo).toBe(NEW);
    expect(await getFriend(bob.ctx, "alice#im.old.test" as Address)).toBeUndefined();
  });

  it("keeps a request that carries a move waiting, nobody moved, until the old server's notice comes; then takes it as the friend it is", async () => {
    const { alice, bob, newKey } = world();
    await pin(bob, { address: alice.address, accountKey: toB64u(alice.keys.publicKey) });
    const move = notice(alice.address, NEW, newKey, alice.keys);
    // Signed by alice's account key, which a device she removed still holds: not enough by itself.
    await apply(bob, [requestItem(request(NEW, newKey, bob.address, move))]);
    expect(await getFriend(bob.ctx, NEW)).toMatchObject({ state: "incoming", accountKey: toB64u(newKey.publicKey) });
    expect((await getFriend(bob.ctx, alice.address))?.movedTo).toBeUndefined();
    expect(await followMove(bob.ctx, alice.address)).toBe(alice.address);
    expect(await owed(bob)).toEqual([]);

    await apply(bob, [movedItem(move)]);
    expect(await getFriend(bob.ctx, NEW)).toMatchObject({ state: "friend", accountKey: toB64u(newKey.publicKey), movedFrom: alice.address });
    expect((await getFriend(bob.ctx, alice.address))?.movedTo).toBe(NEW);
    expect(await owed(bob)).toEqual([NEW]);
    // No server to hear it: the accept stays owed for the next connect.
    await payOwedAccepts(bob.ctx);
    expect(await owed(bob)).toEqual([NEW]);
  });

  it("ends the same when the old server's notice comes before the request", async () => {
    const { alice, bob, newKey } = world();
    await pin(bob, { address: alice.address, accountKey: toB64u(alice.keys.publicKey) });
    const move = notice(alice.address, NEW, newKey, alice.keys);
    await apply(bob, [movedItem(move)]);
    await apply(bob, [requestItem(request(NEW, newKey, bob.address, move))]);
    expect(await getFriend(bob.ctx, NEW)).toMatchObject({ state: "friend", accountKey: toB64u(newKey.publicKey), movedFrom: alice.address });
    expect((await getFriend(bob.ctx, alice.address))?.movedTo).toBe(NEW);
    expect(await owed(bob)).toEqual([NEW]);
  });

  it("treats a request whose move is forged like any stranger's: a request to answer, nobody moved", async () => {
    const { alice, bob, newKey } = world();
    await pin(bob, { address: alice.address, accountKey: toB64u(alice.keys.publicKey) });
    await apply(bob, [requestItem(request(NEW, newKey, bob.address, notice(alice.address, NEW, newKey, generateKeyPair())))]);
    expect(await getFriend(bob.ctx, NEW)).toMatchObject({ state: "incoming" });
    expect((await getFriend(bob.ctx, alice.address))?.movedTo).toBeUndefined();
    expect(await owed(bob)).toEqual([]);
  });

  it("answers a friend who asks again with the pinned key by itself, and a request with another key not at all", async () => {
    const { alice, bob } = world();
    await pin(bob, { address: alice.address, accountKey: toB64u(alice.keys.publicKey) });
    await apply(bob, [requestItem(request(alice.address, generateKeyPair(), bob.address))]);
    expect(await owed(bob)).toEqual([]);
    expect(await getFriend(bob.ctx, alice.address)).toMatchObject({ state: "incoming" });
    await pin(bob, { address: alice.address, accountKey: toB64u(alice.keys.publicKey) });
    await apply(bob, [requestItem(request(alice.address, alice.keys, bob.address))]);
    expect(await owed(bob)).toEqual([alice.address]);
    expect(await getFriend(bob.ctx, alice.address)).toMatchObject({ state: "friend" });
  });
});

describe("the export an import reads", () => {
  it("carries keys, the exporting device, accepted friends (those who moved at their new address), groups, favorites and settings", async () => {
    const { alice, bob, newKey } = world();
    await pin(bob, { address: alice.address, accountKey: toB64u(alice.keys.publicKey), movedTo: NEW });
    await pin(bob, { address: NEW, accountKey: toB64u(newKey.publicKey), movedFrom: alice.address });
    await pin(bob, { address: "carol#im.carol.test" as Address, accountKey: "", state: "outgoing" });
    await bob.ctx.store.put("settings", { strangers: "review", retentionDays: 30 });
    const group = `im.bob.test/${randomId16()}`;
    await saveConversation(bob.ctx, { conversation: group, members: [bob.address, NEW, "dave#im.d.test" as Address], kind: "group", title: "Trip", group: "", epoch: 1, lastHubSeq: 1, created: NOW, unread: 0 });
    const favorites = [{ id: "f1", peer: NEW, from: NEW, text: "keep this", at: 5 }];
    const file = await exportAccount(bob.ctx, "a good passphrase", { favorites, N: 1024 });
    const contents = await readAccountArchive(JSON.stringify(file), "a good passphrase");
    expect(contents).toEqual({
      address: bob.address,
      accountKey: { pub: bob.ctx.account.accountPublicKey, priv: bob.ctx.account.accountPrivateKey },
      device: { cert: bob.ctx.account.deviceCert, priv: bob.ctx.account.devicePrivateKey },
      friends: [{ address: NEW, accountKey: toB64u(newKey.publicKey), since: NOW }],
      groups: [{ conversation: group, members: [bob.address, NEW, "dave#im.d.test"], title: "Trip" }],
      favorites,
      history: [],
      settings: { strangers: "review", retentionDays: 30 },
      exportedAt: NOW,
    });
  });
});

describe("handing the move in at the old server", () => {
  /** Servers that take everything, recording each request: what a moving device sends, and how signed. */
  function recordingServers() {
    const sent: { url: string; request: HttpRequest }[] = [];
    const transport: Transport = {
      async fetch(url, request) {
        const { host, pathname } = new URL(url);
        if (pathname === "/.well-known/emsg") {
          const domain = host.split(".").slice(1).join(".") as Domain;
          const key = generateKeyPair().publicKey;
          return { status: 200, text: async () => JSON.stringify(buildDiscoveryDoc({ domain, keys: [{ kid: keyIdOf(key), key }], software: "test" })) };
        }
        sent.push({ url, request });
        const answer = pathname.endsWith("/account/moved") ? { told: 1 } : { accepted: true };
        return { status: 202, text: async () => JSON.stringify(answer) };
      },
      openSocket: () => {
        throw new Error("no sockets in this test");
      },
    };
    const clock = { now: () => NOW };
    const apiFor = (domain: Domain) => new ServerApi(transport, clock, `http://x.${domain}`, domain);
    return { sent, apiFor, clock };
  }

  async function moveWith(contents: ArchiveContents) {
    const servers = recordingServers();
    const mover = person(NEW);
    mover.ctx.api = servers.apiFor(mover.ctx.account.domain);
    await restoreFriends(mover.ctx, contents);
    const status = await continueMove(mover.ctx, servers.apiFor, true);
    return { status, sent: servers.sent };
  }

  it("signs the request as the device that made the export, the notice with the old account key", async () => {
    const { alice, bob } = world();
    await pin(alice, { address: bob.address, accountKey: toB64u(bob.keys.publicKey) });
    await alice.ctx.store.put("settings", { strangers: "accept", retentionDays: null });
    const contents = await readAccountArchive(await exportAccount(alice.ctx, "a good passphrase", { N: 1024 }), "a good passphrase");
    const { status, sent } = await moveWith(contents);
    expect(status).toMatchObject({ announced: true, told: 1, announceError: null, done: true });
    expect(sent.map((r) => new URL(r.url).pathname)).toEqual(["/emsg/v1/friends/requests", "/emsg/v1/account/moved"]);
    const handIn = sent[1]!;
    const msg = { method: "POST", url: handIn.url, headers: handIn.request.headers, body: new TextEncoder().encode(handIn.request.body!) };
    const parsed = parseSignature(msg);
    expect(parsed.keyId).toBe(`device:${alice.address}/${alice.ctx.account.deviceId}`);
    verifyMessage(msg, parsed, fromB64u(alice.ctx.account.devicePublicKey), { now: Math.floor(NOW / 1000), requiredComponents: CLIENT_COMPONENTS });
    expect(JSON.parse(handIn.request.body!).notice.body).toMatchObject({ from: alice.address, to: NEW });
  });

  it("does not hand in the move of an export without its device (an older file), and says why", async () => {
    const { alice, bob } = world();
    await pin(alice, { address: bob.address, accountKey: toB64u(bob.keys.publicKey) });
    await alice.ctx.store.put("settings", { strangers: "accept", retentionDays: null });
    const { device: _none, ...older } = await readAccountArchive(await exportAccount(alice.ctx, "a good passphrase", { N: 1024 }), "a good passphrase");
    const { status, sent } = await moveWith(older as ArchiveContents);
    expect(status).toMatchObject({ announced: true, told: null, announceError: "unauthorized", done: true });
    // The friends still get the request from the new address, to answer as they like.
    expect(sent.map((r) => new URL(r.url).pathname)).toEqual(["/emsg/v1/friends/requests"]);
  });
});
