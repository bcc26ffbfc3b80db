import { accountRecord } from "../../shared/client/account.js";
import { describe, expect, it } from "vitest";
import { asAddress, type Domain } from "../../shared/address.js";
import { buildDiscoveryDoc, WELL_KNOWN_PATH } from "../../shared/discovery.js";
import { certifyDevice, generateKeyPair, keyIdOf, type KeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, refreshKeys } from "../../shared/mls/group.js";
import { makeKeyPackages } from "../../shared/mls/keypackage.js";
import { epochOf } from "../../shared/mls/group-state.js";
import { decodeGroupState, encodeGroupState } from "../../shared/mls/state-codec.js";
import { deviceIdentityOf } from "../../shared/client/account-record.js";
import type { ClientEvents, CoreContext } from "../../shared/client/context.js";
import type { ConversationRef } from "../../shared/wire/conversation.js";
import { type ConversationRecord, loadConversation, saveConversation } from "../../shared/client/conversation-record.js";
import { onDeviceAdded, queueRemoval, rememberLink, runDeviceJobs } from "../../shared/client/device-jobs.js";
import { Emitter } from "../../shared/client/events.js";
import { commitRefused, commitToHub, ownItemBack, pendingCommit } from "../../shared/client/own-commits.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { HttpRequest, Transport } from "../../shared/client/transport.js";

const NOW = Date.now();
const HUB = "im.alice.test";

/** A hub that answers every Submit with the status and body given; it records what it got. */
function hub(answer: () => { status: number; body: unknown }): { transport: Transport; submits: unknown[] } {
  const submits: unknown[] = [];
  const serverKey = generateKeyPair();
  const doc = buildDiscoveryDoc({ domain: HUB as Domain, keys: [{ kid: keyIdOf(serverKey.publicKey), key: serverKey.publicKey }], software: "test" });
  const transport: Transport = {
    async fetch(url: string, request: HttpRequest) {
      if (url.endsWith(WELL_KNOWN_PATH)) return { status: 200, text: async () => JSON.stringify(doc) };
      if (url.endsWith("/messages")) submits.push(JSON.parse(request.body!));
      const { status, body } = answer();
      if (status === 0) throw new Error("connection reset");
      return { status, text: async () => JSON.stringify(body) };
    },
    openSocket: () => {
      throw new Error("no sockets here");
    },
  };
  return { transport, submits };
}

function person(addressText: string, transport: Transport, accountKeys: KeyPair = generateKeyPair()): CoreContext {
  const address = asAddress(addressText);
  const deviceKeys = generateKeyPair();
  const account = accountRecord(address, accountKeys, deviceKeys, { label: "test", origin: `https://${HUB}`, now: NOW });
  const { deviceCert } = account;
  const clock = { now: () => NOW };
  return { store: new MemoryStore(), api: new ServerApi(transport, clock, account.origin, account.domain), clock, account, events: new Emitter<ClientEvents>() };
}

async function conversationOf(ctx: CoreContext): Promise<ConversationRecord> {
  const conversation = `${HUB}/${randomId16()}`;
  const state = await createGroup(deviceIdentityOf(ctx.account), conversation);
  const record: ConversationRecord = { conversation, members: [ctx.account.address], group: encodeGroupState(state), epoch: epochOf(state), lastHubSeq: 0, created: NOW, unread: 0 };
  await saveConversation(ctx, record);
  return record;
}

async function refreshed(record: ConversationRecord) {
  return refreshKeys(await decodeGroupState(record.group));
}

describe("a commit this device submits", () => {
  it("becomes the conversation's state once the hub accepts it", async () => {
    const { transport, submits } = hub(() => ({ status: 202, body: { accepted: true, seq: 1 } }));
    const alice = person("alice#im.alice.test", transport);
    const record = await conversationOf(alice);
    expect(await commitToHub(alice, record, await refreshed(record))).toBe("ordered");
    expect((await loadConversation(alice, record.conversation))!.epoch).toBe(record.epoch + 1);
    expect(await pendingCommit(alice, record.conversation)).toBeUndefined();
    expect(submits).toHaveLength(1);
  });

  it("is dropped when the hub moved on, leaving the state where it was", async () => {
    const { transport } = hub(() => ({ status: 409, body: { error: "stale_epoch", message: "moved on" } }));
    const alice = person("alice#im.alice.test", transport);
    const record = await conversationOf(alice);
    expect(await commitToHub(alice, record, await refreshed(record))).toBe("stale");
    expect((await loadConversation(alice, record.conversation))!.epoch).toBe(record.epoch);
    expect(await pendingCommit(alice, record.conversation)).toBeUndefined();
  });

  it("whose answer was lost is adopted when it comes back from the hub, so the group never falls behind", async () => {
    const { transport } = hub(() => ({ status: 0, body: null }));
    const alice = person("alice#im.alice.test", transport);
    const record = await conversationOf(alice);
    await expect(commitToHub(alice, record, await refreshed(record))).rejects.toMatchObject({ code: "unavailable" });
    const pending = (await pendingCommit(alice, record.conversation))!;
    expect((await loadConversation(alice, record.conversation))!.epoch).toBe(record.epoch);

    await ownItemBack(alice, record, {
      conversation: record.conversation as ConversationRef, id: pending.submit.id, hubSeq: 7, from: alice.account.address, deviceId: alice.account.deviceId,
      epoch: record.epoch, type: "commit", mls: pending.submit.mls, at: NOW,
    });
    const after = (await loadConversation(alice, record.conversation))!;
    expect(after.epoch).toBe(record.epoch + 1);
    expect(after.applied).toEqual([7]);
    expect(await pendingCommit(alice, record.conversation)).toBeUndefined();
  });
});

describe("a device job whose commit our server took for a remote hub", () => {
  it("waits for the hub's answer without sending it again, and makes it again when another member's commit came first", async () => {
    const { transport, submits } = hub(() => ({ status: 202, body: { accepted: true } }));
    const accountKeys = generateKeyPair();
    const laptop = person("alice#im.alice.test", transport, accountKeys);
    const phoneKey = generateKeyPair();
    const phone = {
      deviceCert: certifyDevice(accountKeys, laptop.account.address, phoneKey.publicKey, "phone", NOW),
      devicePrivateKey: phoneKey.privateKey,
      devicePublicKey: phoneKey.publicKey,
    };
    const alone = await conversationOf(laptop);
    const [bundle] = await makeKeyPackages(phone, 1);
    const { state } = await addMembers(await decodeGroupState(alone.group), [bundle!.keyPackage]);
    const record = { ...alone, group: encodeGroupState(state), epoch: epochOf(state) };
    await saveConversation(laptop, record);
    const noCatchUp = async () => undefined;
    await queueRemoval(laptop, phone.deviceCert.body.deviceId);

    await runDeviceJobs(laptop, noCatchUp);
    await runDeviceJobs(laptop, noCatchUp);
    expect(submits).toHaveLength(1);
    expect(await laptop.store.list("devjob/")).toHaveLength(1);

    // Its bounce: another member's commit came first. The phone is still in the group, so it is removed again.
    await commitRefused(laptop, (await pendingCommit(laptop, record.conversation))!.submit.id, record.conversation);
    await runDeviceJobs(laptop, noCatchUp);
    expect(submits).toHaveLength(2);

    // This one the hub orders: once it comes back, the job is done.
    const pending = (await pendingCommit(laptop, record.conversation))!;
    await ownItemBack(laptop, record, {
      conversation: record.conversation as ConversationRef, id: pending.submit.id, hubSeq: 9, from: laptop.account.address, deviceId: laptop.account.deviceId,
      epoch: record.epoch, type: "commit", mls: pending.submit.mls, at: NOW,
    });
    await runDeviceJobs(laptop, noCatchUp);
    expect(submits).toHaveLength(2);
    expect(await laptop.store.list("devjob/")).toEqual([]);
    expect((await loadConversation(laptop, record.conversation))!.epoch).toBe(record.epoch + 1);
  });
});

describe("a device_added mail item", () => {
  it("makes an add job only on the device that made the link, and only for a certificate of our own key", async () => {
    const { transport } = hub(() => ({ status: 500, body: {} }));
    const accountKeys = generateKeyPair();
    const laptop = person("alice#im.alice.test", transport, accountKeys);
    const tablet = person("alice#im.alice.test", transport, accountKeys);
    const phone = person("alice#im.alice.test", transport, accountKeys);
    const seen: string[] = [];
    laptop.events.on("devices", ({ deviceId }) => void seen.push(deviceId));
    const link = randomId16();
    await rememberLink(laptop, link, NOW + 600_000, NOW);

    expect(await onDeviceAdded(tablet, phone.account.deviceCert, link)).toBe(false);
    expect(await onDeviceAdded(laptop, phone.account.deviceCert, randomId16())).toBe(false);
    expect(await onDeviceAdded(laptop, phone.account.deviceCert, link)).toBe(true);
    expect(await laptop.store.list("devjob/")).toEqual([[`devjob/${phone.account.deviceId}`, { kind: "add", deviceId: phone.account.deviceId }]]);
    // The link is used up: the same item again adds nothing new.
    expect(await onDeviceAdded(laptop, phone.account.deviceCert, link)).toBe(false);
    expect(seen).toEqual([phone.account.deviceId, phone.account.deviceId, phone.account.deviceId]);

    // An expired link is forgotten when the next one is made.
    const old = randomId16();
    await rememberLink(laptop, old, NOW + 600_000, NOW);
    const fresh = randomId16();
    await rememberLink(laptop, fresh, NOW + 1_300_000, NOW + 700_000);
    expect((await laptop.store.list("link/")).map(([key]) => key)).toEqual([`link/${fresh}`]);

    const forged = person("alice#im.alice.test", transport);
    await rememberLink(laptop, link, NOW + 600_000, NOW);
    await expect(onDeviceAdded(laptop, forged.account.deviceCert, link)).rejects.toMatchObject({ code: "unauthorized" });
    expect(await laptop.store.list("devjob/")).toHaveLength(1);
  });
});
