// Every server of a small world in one object, for the client core's group operations: accounts,
// KeyPackages and claims, hubs that judge Submits with the worker's own rules and fan out to the
// mailboxes, and the polling mailbox. Federation is left out (every domain is this one object);
// the real servers are in tests/e2e/groups.test.ts.
import { accountRecord } from "../../shared/client/account.js";
import { type Address, asAddress, asDomain, domainOf } from "../../shared/address.js";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { buildDiscoveryDoc } from "../../shared/discovery.js";
import { EmsgError, type ErrorCode } from "../../shared/errors.js";
import { type DeviceCert, generateKeyPair, keyIdOf, type KeyPair } from "../../shared/identity.js";
import type { ConvPayload, Rejoin, Submit, Veto } from "../../shared/wire/conversation.js";
import type { MailItem } from "../../shared/wire/mail.js";
import { judgeSubmit, recipientsOf, welcomeRecipients } from "../../worker/policy/epoch.js";
import { COMMITS_KEPT, judgeVeto, type RecentCommit } from "../../worker/policy/veto.js";
import { judgeRejoin } from "../../worker/policy/rejoin.js";
import { saveAccount } from "../../shared/client/account-record.js";
import { EmsgClient } from "../../shared/client/client.js";
import type { ConversationRecord } from "../../shared/client/conversation-record.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { HttpRequest, HttpResponse, Transport } from "../../shared/client/transport.js";

// KeyPackages are checked against the real clock, so the world lives in the present.
const NOW = Date.now();

interface Device {
  cert: DeviceCert;
  keyPackages: string[];
}

interface Account {
  accountKey: string;
  devices: Device[];
  mailbox: MailItem[];
}

interface Hub {
  epoch: number;
  members: Address[];
  seq: number;
  /** What a veto may withdraw (PROTOCOL §8, Vetoes), oldest first. */
  recent: RecentCommit[];
  /** The epoch a withdrawal left. */
  withdrawn?: number;
  /** Position of each withdrawal, by the commit's. */
  withdrawals: Map<number, number>;
}

const json = (status: number, body?: unknown): HttpResponse => ({ status, text: async () => (body === undefined ? "" : JSON.stringify(body)) });
const refusal = (e: EmsgError) => json(e.code === "forbidden" ? 403 : e.code === "not_found" ? 404 : e.code === "stale_epoch" || e.code === "conflict" ? 409 : 400, e.toJSON());

export class GroupWorld {
  readonly accounts = new Map<Address, Account>();
  readonly hubs = new Map<string, Hub>();
  /** Every Submit a hub took, with its sender: what a server could see. */
  readonly log: { from: Address; conversation: string; submit: Submit }[] = [];
  readonly #serverKey = generateKeyPair();
  /** When set, every device list asked for is refused with this code, as a busy or failing server would. */
  deviceListsRefused: ErrorCode | undefined;
  /** Whose submissions reach the hub through their own server: it answers without the hub's `seq` (PROTOCOL §6). */
  readonly forwarded = new Set<Address>();

  /** How far each person's devices' clocks are off, in ms (absent: right). */
  readonly clockSkew = new Map<Address, number>();
  /** Whose submissions fail as they do while their server cannot be reached (`unavailable`). */
  readonly unreachable = new Set<Address>();

  readonly transport: Transport = {
    fetch: async (url, request) => {
      try {
        return await this.#serve(new URL(url), request);
      } catch (error) {
        if (error instanceof EmsgError) return refusal(error);
        throw error;
      }
    },
    openSocket: () => {
      throw new Error("this world has no sockets: the clients poll");
    },
  };

  /** A person with one device, registered, with KeyPackages published and the client open. */
  person(addressText: string): Promise<EmsgClient> {
    return this.#device(asAddress(addressText), generateKeyPair());
  }

  /** Another device of `client`'s account, as a device link leaves it (it joins only groups made after). */
  anotherDevice(client: EmsgClient): Promise<EmsgClient> {
    const { address, accountPublicKey, accountPrivateKey } = client.account!;
    return this.#device(address, { publicKey: fromB64u(accountPublicKey), privateKey: fromB64u(accountPrivateKey) });
  }

  async #device(address: Address, accountKeys: KeyPair): Promise<EmsgClient> {
    const deviceKeys = generateKeyPair();
    const record = accountRecord(address, accountKeys, deviceKeys, { label: "test", origin: `http://${domainOf(address)}`, now: NOW });
    const { deviceCert } = record;
    const known = this.accounts.get(address);
    if (known?.accountKey === record.accountPublicKey) known.devices.push({ cert: deviceCert, keyPackages: [] });
    else this.accounts.set(address, { accountKey: record.accountPublicKey, devices: [{ cert: deviceCert, keyPackages: [] }], mailbox: [] });
    const store = new MemoryStore();
    await saveAccount(store, record);
    const client = new EmsgClient({ store, transport: this.transport, clock: { now: () => Date.now() + (this.clockSkew.get(address) ?? 0) } });
    // A linked device starts after the mailbox's backlog (PROTOCOL §6).
    if (known?.accountKey === record.accountPublicKey) await store.put("mailbox/cursor", known.mailbox.length);
    stores.set(client, store);
    await client.open();
    await client.sync();
    return client;
  }

  /** Pins each other's keys on both sides, as an accepted friend request leaves them. */
  async befriend(a: EmsgClient, b: EmsgClient): Promise<void> {
    for (const [me, them] of [[a, b], [b, a]] as const) {
      const friend = { address: them.address, accountKey: them.account!.accountPublicKey, state: "friend", since: NOW };
      await this.storeOf(me).put(`friend/${them.address}`, friend);
    }
  }

  storeOf(client: EmsgClient): MemoryStore {
    return stores.get(client)!;
  }

  async #serve(url: URL, request: HttpRequest): Promise<HttpResponse> {
    const domain = asDomain(url.hostname);
    if (url.pathname === "/.well-known/emsg") {
      return json(200, buildDiscoveryDoc({ domain, keys: [{ kid: keyIdOf(this.#serverKey.publicKey), key: this.#serverKey.publicKey }], software: "group-world" }));
    }
    const path = url.pathname.replace(/^\/emsg\/v1/, "");
    const keyId = /keyid="device:([^"]+)\/([^"/]+)"/.exec(request.headers["signature-input"] ?? "");
    if (!keyId) return json(401, { error: "unauthorized", message: "unsigned" });
    const caller = asAddress(keyId[1]!);
    const deviceId = keyId[2]!;
    const account = this.accounts.get(caller)!;
    const body = request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
    if (path === "/account/keypackages") {
      const device = account.devices.find((d) => d.cert.body.deviceId === deviceId)!;
      device.keyPackages.push(...(body.keyPackages as string[]));
      return json(200, { stored: device.keyPackages.length });
    }
    if (path === "/friends") return json(200, { friends: [] });
    // A real server takes any well-formed request and passes it on; an unknown address bounces later.
    if (path === "/friends/requests") return json(202, { accepted: true });
    if (path === "/mailbox/ack") return json(204);
    if (path === "/mailbox") {
      const after = Number(url.searchParams.get("after"));
      return json(200, { items: account.mailbox.filter((i) => i.seq > after), more: false });
    }
    if (path === "/directory/claim") {
      const target = this.accounts.get(body.address as Address);
      if (!target) throw new EmsgError("not_found", "no such account");
      const devices = target.devices.map((d) => ({ deviceCert: d.cert, keyPackage: d.keyPackages.shift() ?? null }));
      return json(200, { address: body.address, accountKey: target.accountKey, devices });
    }
    if (path === "/directory/devices") {
      if (this.deviceListsRefused) throw new EmsgError(this.deviceListsRefused, "device lists refused for this test");
      const target = this.accounts.get(body.address as Address);
      if (!target) throw new EmsgError("not_found", "no such account");
      return json(200, { address: body.address, accountKey: target.accountKey, devices: target.devices.map((d) => d.cert) });
    }
    if (path === "/conversations") {
      const conversation = `${domain}/${body.id as string}`;
      this.hubs.set(conversation, { epoch: 0, members: [...new Set([caller, ...(body.members as Address[])])], seq: 0, recent: [], withdrawals: new Map() });
      return json(201, { conversation });
    }
    const submitPath = /^\/conversations\/([^/]+)\/([^/]+)\/messages$/.exec(path);
    if (submitPath) {
      const conversation = `${decodeURIComponent(submitPath[1]!)}/${decodeURIComponent(submitPath[2]!)}`;
      if (this.unreachable.has(caller)) throw new EmsgError("unavailable", "unreachable for this test");
      const seq = this.submit(conversation, caller, deviceId, body as unknown as Submit);
      return json(202, this.forwarded.has(caller) ? { accepted: true } : { accepted: true, seq });
    }
    const vetoPath = /^\/conversations\/([^/]+)\/([^/]+)\/veto$/.exec(path);
    if (vetoPath) {
      const conversation = `${decodeURIComponent(vetoPath[1]!)}/${decodeURIComponent(vetoPath[2]!)}`;
      this.vetoes.push({ from: caller, conversation, veto: body as unknown as Veto });
      return json(202, { accepted: true, seq: this.veto(conversation, caller, deviceId, body as unknown as Veto) });
    }
    const rejoinPath = /^\/conversations\/([^/]+)\/([^/]+)\/rejoin$/.exec(path);
    if (rejoinPath) {
      const conversation = `${decodeURIComponent(rejoinPath[1]!)}/${decodeURIComponent(rejoinPath[2]!)}`;
      return json(202, { accepted: true, seq: this.rejoin(conversation, caller, deviceId, body as unknown as Rejoin) });
    }
    return json(404, { error: "not_found", message: path });
  }

  /** Every ask to rejoin a hub took, with its device. */
  readonly rejoins: { from: Address; deviceId: string; conversation: string }[] = [];

  /** An ask to be let back in as the hub takes it (the worker's rules, without its rate limit): a `rejoin` entry for every member. */
  rejoin(conversation: string, from: Address, deviceId: string, rejoin: Rejoin): number {
    const hub = this.hubs.get(conversation);
    if (!hub) throw new EmsgError("not_found", "no such conversation");
    judgeRejoin(hub.members, from, 0);
    this.rejoins.push({ from, deviceId, conversation });
    const hubSeq = ++hub.seq;
    const payload: ConvPayload = {
      conversation: conversation as ConvPayload["conversation"], id: rejoin.id, hubSeq, from, deviceId, epoch: hub.epoch, type: "rejoin", mls: "", at: Date.now(),
    };
    for (const to of hub.members) this.#deliver(to, payload);
    return hubSeq;
  }

  /** Every veto a hub was sent, with its sender. */
  readonly vetoes: { from: Address; conversation: string; veto: Veto }[] = [];

  /** Vetoes each account had accepted (the hub's limit counts a day's; this world lives less than one). */
  readonly vetoesAccepted = new Map<Address, number>();

  /** A veto as the hub takes it (the worker's rules): the latest commits are withdrawn. */
  veto(conversation: string, from: Address, deviceId: string, veto: Veto): number {
    const hub = this.hubs.get(conversation);
    if (!hub) throw new EmsgError("not_found", "no such conversation");
    const done = hub.withdrawals.get(veto.hubSeq);
    if (done !== undefined) return done;
    const run = judgeVeto(hub.recent, hub.members, from, deviceId, veto, this.vetoesAccepted.get(from) ?? 0);
    this.vetoesAccepted.set(from, (this.vetoesAccepted.get(from) ?? 0) + 1);
    const { epoch, before } = run[0]!;
    hub.epoch = epoch;
    hub.withdrawn = epoch + run.length;
    hub.members = [...before];
    hub.recent = [];
    const hubSeq = ++hub.seq;
    for (const c of run) hub.withdrawals.set(c.seq, hubSeq);
    const payload: ConvPayload = {
      conversation: conversation as ConvPayload["conversation"], id: veto.id, hubSeq, from, deviceId, epoch,
      type: "withdrawn", mls: "", members: hub.members, withdraws: run.map((c) => ({ id: c.id, hubSeq: c.seq })), at: Date.now(),
    };
    for (const to of new Set([...before, ...run.flatMap((c) => c.after)])) this.#deliver(to, payload);
    return hubSeq;
  }

  /** Changes what one account is handed (a commit whose path secret for it is garbage, say); the rest get the real thing. */
  tamper: ((to: Address, payload: ConvPayload) => ConvPayload) | undefined;

  /** A Submit as the hub takes it, from whatever client made it (a test's own, say). */
  submit(conversation: string, from: Address, deviceId: string, submit: Submit): number {
    const hub = this.hubs.get(conversation);
    if (!hub) throw new EmsgError("not_found", "no such conversation");
    const before = hub.members;
    const next = judgeSubmit(hub, from, submit);
    hub.epoch = next.epoch;
    hub.members = [...next.members];
    const hubSeq = ++hub.seq;
    if (submit.kind === "commit") hub.recent = [...hub.recent, { seq: hubSeq, id: submit.id, sender: from, deviceId, epoch: submit.epoch, before, after: hub.members }].slice(-COMMITS_KEPT);
    this.log.push({ from, conversation, submit });
    const payload: ConvPayload = {
      conversation: conversation as ConvPayload["conversation"], id: submit.id, hubSeq, from, deviceId, epoch: submit.epoch,
      type: submit.kind, mls: submit.mls, ...(submit.kind === "commit" ? { members: hub.members } : {}), at: Date.now(),
    };
    for (const to of recipientsOf(before, hub.members)) this.#deliver(to, payload);
    if (submit.welcome) {
      const welcome = { ...payload, type: "welcome" as const, mls: submit.welcome, members: hub.members };
      for (const to of welcomeRecipients(hub.members, submit)) this.#deliver(to, welcome);
    }
    return hubSeq;
  }

  #deliver(to: Address, payload: ConvPayload): void {
    const account = this.accounts.get(to);
    if (!account) return;
    // As the worker does (PROTOCOL §6): an only device has its own message's position from the answer.
    const sole = account.devices.length === 1 ? account.devices[0]!.cert.body.deviceId : undefined;
    if (payload.type === "application" && payload.from === to && payload.deviceId === sole) return;
    const handed = this.tamper?.(to, payload) ?? payload;
    account.mailbox.push({ ...handed, kind: "conv", seq: account.mailbox.length + 1 } as MailItem);
  }
}

const stores = new WeakMap<EmsgClient, MemoryStore>();

/** Syncs each client twice round: what one person's sync sends (a removal commit, say) reaches the others in the second. */
export async function syncAll(...clients: EmsgClient[]): Promise<void> {
  for (let round = 0; round < 2; round++) for (const c of clients) await c.sync();
}

/** Alice (im.alice.test) with her friends Bob and Carol (im.bob.test), who are not each other's. */
export async function threeFriends() {
  const world = new GroupWorld();
  const alice = await world.person("alice#im.alice.test");
  const bob = await world.person("bob#im.bob.test");
  const carol = await world.person("carol#im.bob.test");
  await world.befriend(alice, bob);
  await world.befriend(alice, carol);
  return { world, alice, bob, carol };
}

/** Alice and Bob, friends with a 1:1 in which Alice said hello and Bob read it. */
export async function friendsWhoChatted() {
  const world = new GroupWorld();
  const alice = await world.person("alice#im.alice.test");
  const bob = await world.person("bob#im.bob.test");
  await world.befriend(alice, bob);
  await alice.sendText(bob.address, "hello");
  await alice.flush();
  await bob.sync();
  return { world, alice, bob };
}

/** The three in Alice's group "Trip", which Bob and Carol have joined. */
export async function tripGroup() {
  const people = await threeFriends();
  const { conversation } = await people.alice.createGroup("Trip", [people.bob.address, people.carol.address]);
  await people.alice.flush();
  await syncAll(people.bob, people.carol);
  return { ...people, conversation };
}

/** A person's stored conversation, as the client core keeps it. */
export function record(world: GroupWorld, client: EmsgClient, conversation: string): Promise<ConversationRecord | undefined> {
  return world.storeOf(client).get<ConversationRecord>(`conv/${conversation}`);
}

/** The same MLS message with its AEAD tag broken: its header reads as before, nobody can open it. */
export function broken(mls: string): string {
  const bytes = fromB64u(mls);
  bytes[bytes.length - 1]! ^= 0xff;
  return toB64u(bytes);
}

/** Commits the hub took. */
export const commits = (world: GroupWorld, conversation: string) => world.log.filter((l) => l.conversation === conversation && l.submit.kind === "commit");

/**
 * Alice, Bob and Carol's group, where Alice's add of Dave reached Bob broken and Carol committed on
 * top: Bob's veto is refused, and he is stuck (PROTOCOL §8, Rejoining).
 */
export async function bobStuck() {
  const trip = await tripGroup();
  const { world, alice, bob, carol, conversation } = trip;
  const dave = await world.person("dave#im.bob.test");
  await world.befriend(alice, dave);
  world.tamper = (to, item: ConvPayload) => (to === bob.address && item.type === "commit" ? { ...item, mls: broken(item.mls) } : item);
  await alice.addToGroup(conversation, [dave.address]);
  world.tamper = undefined;
  await syncAll(carol, dave);
  await carol.removeFromGroup(conversation, [dave.address]);
  await bob.sync();
  return { ...trip, dave };
}
