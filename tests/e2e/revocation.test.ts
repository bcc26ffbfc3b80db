import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromB64u } from "../../shared/base64url.js";
import { EmsgClient } from "../../shared/client/client.js";
import { loadAccount, type AccountRecord } from "../../shared/client/account-record.js";
import type { ConversationRecord } from "../../shared/client/conversation-record.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { systemClock, type SocketLike, type Transport } from "../../shared/client/transport.js";
import { deviceKeyId } from "../../shared/http-signature.js";
import { randomId16 } from "../../shared/ids.js";
import { certifyDevice, deviceIdOf, generateKeyPair, keyPairFromSeed, type DeviceCert, type KeyPair } from "../../shared/identity.js";
import { membersOf } from "../../shared/mls/group-state.js";
import { decodeGroupState } from "../../shared/mls/state-codec.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { befriend, connect, newClient, type Pair, removeClientDirs, startPair, until, codeOf } from "./harness.js";

// Alice links her phone, then removes it. The phone keeps its state directory (its account key
// included) and tries what a stolen phone would: add itself back, keep its session, read on.
// Bob, on the other domain, keeps a session with Alice's hub alive by renewing its ticket.
let pair: Pair;
let laptop: EmsgClient;
let laptopDir: string;
let phone: EmsgClient;
let phoneDir: string;
let bob: EmsgClient;
const BOB = "bob#im.bob.test";
const ALICE = "alice#im.alice.test";

/** What a client's session sockets received and how they closed. */
interface SocketLog {
  frames: string[];
  closes: number[];
}

/** The Node transport, recording the session sockets' traffic (the mailbox's is left out). */
function recording(log: SocketLog): Transport {
  return {
    fetch: (url, request) => nodeTransport.fetch(url, request),
    openSocket(url: string): SocketLike {
      const socket = nodeTransport.openSocket(url);
      if (!url.includes("/session?")) return socket;
      const wrapped: SocketLike = {
        send: (data) => socket.send(data),
        close: (code, reason) => socket.close(code, reason),
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
      };
      socket.onopen = () => wrapped.onopen?.();
      socket.onmessage = (data) => {
        log.frames.push(data);
        wrapped.onmessage?.(data);
      };
      socket.onclose = (code) => {
        log.closes.push(code);
        wrapped.onclose?.(code);
      };
      socket.onerror = (error) => wrapped.onerror?.(error);
      return wrapped;
    },
  };
}

const phoneLog: SocketLog = { frames: [], closes: [] };
const bobLog: SocketLog = { frames: [], closes: [] };
/** Bob's clock runs ahead by this much when a test says so: a ticket's life passes without waiting. */
let bobAhead = 0;

beforeAll(async () => {
  pair = await startPair(18887, 19887);
  ({ client: laptop, dir: laptopDir } = await newClient(pair));
  phoneDir = (await newClient(pair)).dir;
  phone = new EmsgClient({ store: new FileStore(phoneDir), transport: recording(phoneLog), resolve: pair.running.resolve });
  const bobDir = (await newClient(pair)).dir;
  bob = new EmsgClient({ store: new FileStore(bobDir), transport: recording(bobLog), resolve: pair.running.resolve, clock: { now: () => Date.now() + bobAhead } });
});

afterAll(async () => {
  for (const c of [laptop, phone, bob]) c?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

async function texts(client: EmsgClient, peer: string): Promise<string[]> {
  return (await client.history(peer, { limit: 500 })).map((m) => m.text);
}

/** The device ids in the laptop's MLS group with Bob, read from its store. */
async function groupDevices(): Promise<string[]> {
  const records = (await new FileStore(laptopDir).list<ConversationRecord>("conv/")).map(([, r]) => r);
  const record = records.find((r) => r.peer === BOB);
  return membersOf(await decodeGroupState(record!.group)).map((m) => m.deviceId);
}

/** Alice's server, as a device with `key` and its certificate `cert` (signed by the account key) reaches it. */
function asDevice(account: AccountRecord, key: KeyPair): ServerApi {
  const api = new ServerApi(nodeTransport, systemClock, account.origin, account.domain);
  api.setSigner({ keyId: deviceKeyId(account.address, deviceIdOf(key.publicKey)), privateKey: key.privateKey });
  return api;
}

/** The phone adding itself back with `key` and `cert`, as its own stored account lets it. */
function addBack(account: AccountRecord, key: KeyPair, cert: DeviceCert, link?: string): Promise<unknown> {
  return asDevice(account, key).call("POST", "/account/devices", { deviceCert: cert, ...(link ? { link } : {}) });
}

function renewedFrames(log: SocketLog): { t: string; exp: number }[] {
  return log.frames.map((f) => JSON.parse(f) as { t: string; exp: number }).filter((f) => f.t === "renewed");
}

describe("removing a device for good", () => {
  it("starts with Alice's laptop and linked phone in a chat with Bob on the other domain", async () => {
    await laptop.register(ALICE, { label: "laptop" });
    await bob.register(BOB, { label: "bob" });
    await befriend(laptop, bob, "hi Bob");
    await connect(laptop);
    await connect(bob);
    // Alice writes first: her server is the conversation's hub.
    await laptop.sendText(BOB, "before the phone");
    await until("Bob to read Alice", async () => (await texts(bob, ALICE)).includes("before the phone"));

    await phone.linkDevice((await laptop.startDeviceLink()).code, { label: "phone" });
    await connect(phone);
    await until("the laptop to add the phone to the chat", async () => (await phone.conversations()).find((c) => c.peer === BOB));
    await bob.sendText(ALICE, "hello both");
    await until("the phone to read Bob", async () => (await texts(phone, BOB)).includes("hello both"));
  });

  it("keeps Bob's session with Alice's hub open past its first ticket: his client renews it from his own server", async () => {
    expect(await bob.openSession(ALICE)).toBe("session");
    expect(renewedFrames(bobLog)).toEqual([]);
    // Half of the ticket's five minutes have passed on Bob's clock: his next tick renews it.
    bobAhead = 160_000;
    bob.tickSessions();
    const [renewed] = await until("Alice's hub to take Bob's fresh ticket", () => {
      const frames = renewedFrames(bobLog);
      return frames.length > 0 ? frames : null;
    });
    expect(renewed!.exp).toBeGreaterThan(Date.now() + 4 * 60_000);
    bobAhead = 0;
    const conversation = (await bob.conversations()).find((c) => c.peer === ALICE)!.conversation;
    expect(bob.pathOf(conversation)).toBe("session");
    expect(bobLog.closes).toEqual([]);
    await bob.sendText(ALICE, "still on the session");
    await until("the laptop to read Bob", async () => (await texts(laptop, BOB)).includes("still on the session"));
  });

  it("closes the removed phone's session (its server tells the hub at once), and gives it no new one", async () => {
    const conversation = (await phone.conversations()).find((c) => c.peer === BOB)!.conversation;
    expect(await phone.openSession(BOB)).toBe("session");
    await laptop.removeDevice(phone.account!.deviceId);
    await until("the phone's session to close", () => phone.pathOf(conversation) === "relay");
    expect(phoneLog.closes).toEqual([4001]);
    // Its server gives it no ticket: it stays on a mailbox path it cannot use either.
    expect(await phone.openSession(BOB)).toBe("relay");
    expect(await codeOf(phone.sync())).toBe("device_removed");
  });

  it("refuses the phone adding itself back with what its own storage holds", async () => {
    const stored = (await loadAccount(new FileStore(phoneDir)))!;
    const account = keyPairFromSeed(fromB64u(stored.accountPrivateKey));
    const oldKey = keyPairFromSeed(fromB64u(stored.devicePrivateKey));
    // Its own certificate, minutes old, and a fresh one for its old key.
    expect(await codeOf(addBack(stored, oldKey, stored.deviceCert))).toBe("unauthorized");
    const recertified = certifyDevice(account, stored.address, oldKey.publicKey, "phone again", Date.now());
    expect(await codeOf(addBack(stored, oldKey, recertified))).toBe("unauthorized");
    // A new key of its own, certified with the account key it still holds, naming a made-up link.
    const newKey = generateKeyPair();
    const fresh = certifyDevice(account, stored.address, newKey.publicKey, "not a phone", Date.now());
    expect(await codeOf(addBack(stored, newKey, fresh))).toBe("unauthorized");
    expect(await codeOf(addBack(stored, newKey, fresh, randomId16()))).toBe("unauthorized");
    expect((await laptop.devices()).map((d) => d.label)).toEqual(["laptop"]);
  });

  it("does not let the phone read what Alice sends afterwards", async () => {
    const phoneId = phone.account!.deviceId;
    await until("the laptop to commit the phone's removal", async () => !(await groupDevices()).includes(phoneId));
    await laptop.sendText(BOB, "after the phone left");
    await until("Bob to read Alice", async () => (await texts(bob, ALICE)).includes("after the phone left"));
    expect(await codeOf(phone.sync())).toBe("device_removed");
    expect(await codeOf(phone.connect())).toBe("device_removed");
    expect(await texts(phone, BOB)).not.toContain("after the phone left");
  });
});
