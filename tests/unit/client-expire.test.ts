import { describe, expect, it } from "vitest";
import { asAddress, domainOf } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { certifyDevice, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import type { AccountRecord } from "../../shared/client/account-record.js";
import { EmsgClient } from "../../shared/client/client.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { Transport } from "../../shared/client/transport.js";
import { saveMessage } from "../../shared/client/messages.js";
import { pendingConversation } from "../../shared/client/outgoing-queue.js";

const DAY = 24 * 3600 * 1000;
const NOW = Date.now();

const offline: Transport = {
  fetch: () => Promise.reject(new Error("no network in this test")),
  openSocket: () => {
    throw new Error("no network in this test");
  },
};

async function clientWithHistory(retentionDays: number | null) {
  const address = asAddress("alice#im.alice.test");
  const accountKeys = generateKeyPair();
  const deviceKeys = generateKeyPair();
  const deviceCert = certifyDevice(accountKeys, address, deviceKeys.publicKey, "test", NOW);
  const account: AccountRecord = {
    address, domain: domainOf(address), origin: "http://127.0.0.1:9",
    accountPublicKey: toB64u(accountKeys.publicKey), accountPrivateKey: toB64u(accountKeys.privateKey),
    deviceId: deviceCert.body.deviceId, devicePublicKey: toB64u(deviceKeys.publicKey), devicePrivateKey: toB64u(deviceKeys.privateKey),
    deviceCert, created: NOW - 100 * DAY,
  };
  const store = new MemoryStore();
  await store.put("account", account);
  await store.put("settings", { strangers: "accept", retentionDays });
  // Messages to Bob written before any conversation with him exists, so no MLS state is needed.
  for (const friend of ["bob#im.bob.test", "carol#im.carol.test"]) {
    const conversation = pendingConversation(asAddress(friend));
    for (const [text, age] of [["forty days old", 40], ["eight days old", 8], ["yesterday", 1]] as const) {
      await saveMessage({ store }, { id: randomId16(), conversation, from: address, direction: "out", text, at: NOW - age * DAY, status: "sent" });
    }
  }
  // Friends, so a chat's timer may be set (it is sent to them once they can be reached).
  for (const friend of ["bob#im.bob.test", "carol#im.carol.test"]) {
    await store.put(`friend/${friend}`, { address: friend, accountKey: toB64u(generateKeyPair().publicKey), state: "friend", since: NOW });
  }
  const client = new EmsgClient({ store, transport: offline, clock: { now: () => NOW } });
  expect(await client.open()).toBe(true);
  return { client, conversation: "bob#im.bob.test", other: "carol#im.carol.test" };
}

// The texts only: setting a chat's timer leaves a notice line in it too.
const texts = async (client: EmsgClient, chat: string) => (await client.history(chat)).filter((m) => !m.notice).map((m) => m.text);

describe("message expiry", () => {
  it("deletes messages older than the retention setting and keeps the rest", async () => {
    const { client, conversation, other } = await clientWithHistory(7);
    expect(await client.expire()).toHaveLength(4);
    expect(await texts(client, conversation)).toEqual(["yesterday"]);
    expect(await texts(client, other)).toEqual(["yesterday"]);
  });

  it("keeps everything when retention is off", async () => {
    const { client, conversation } = await clientWithHistory(null);
    expect(await client.expire(NOW + 1000 * DAY)).toEqual([]);
    expect(await client.history(conversation)).toHaveLength(3);
  });

  it("uses a chat's own retention over the account's, in both directions", async () => {
    const { client, conversation, other } = await clientWithHistory(30);
    await client.setChatRetention(conversation, 1);
    await client.setChatRetention(other, null);
    expect([await client.chatRetention(conversation), await client.chatRetention(other)]).toEqual([1, null]);
    const removed = await client.expire();
    expect(await texts(client, conversation)).toEqual(["yesterday"]);
    expect(await texts(client, other)).toEqual(["forty days old", "eight days old", "yesterday"]);
    expect(removed).toHaveLength(2);
  });

  it("follows the account's retention again once a chat's own is cleared", async () => {
    const { client, conversation } = await clientWithHistory(30);
    await client.setChatRetention(conversation, null);
    await client.setChatRetention(conversation, undefined);
    expect(await client.chatRetention(conversation)).toBeUndefined();
    await client.expire();
    expect(await texts(client, conversation)).toEqual(["eight days old", "yesterday"]);
  });

  it("refuses a chat retention the account setting could not hold", async () => {
    const { client, conversation } = await clientWithHistory(null);
    for (const days of [0, 3651, 1.5]) {
      await expect(client.setChatRetention(conversation, days)).rejects.toMatchObject({ code: "bad_request" });
    }
    expect(await client.chatRetention(conversation)).toBeUndefined();
  });
});
