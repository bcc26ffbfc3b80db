import { describe, expect, it } from "vitest";
import { asAddress } from "../../shared/address.js";
import { accountRecord } from "../../shared/client/account.js";
import { saveAccount } from "../../shared/client/account-record.js";
import { EmsgClient } from "../../shared/client/client.js";
import { MemoryStore } from "../../shared/client/store.js";
import { generateKeyPair } from "../../shared/identity.js";
import { ClientService } from "../../extension/background/client-service.js";
import { handleRequest } from "../../extension/background/requests.js";
import { fetchTransport } from "../../extension/platform/fetch-transport.js";
import { DevicesViewModel } from "../../ui/view-models/devices-model.js";
import { PANEL, SELF } from "./extension-senders.js";

// Port 9 on loopback: nothing listens, so every request to the account's server fails at once.
const AWAY = "http://127.0.0.1:9";
const CREATED = Date.UTC(2026, 10, 3, 12);

async function deviceAway(): Promise<{ store: MemoryStore; deviceId: string }> {
  const store = new MemoryStore();
  const record = accountRecord(asAddress("alice#im.alice.test"), generateKeyPair(), generateKeyPair(), { label: "Alice's laptop", origin: AWAY, now: CREATED });
  await saveAccount(store, record);
  return { store, deviceId: record.deviceId };
}

describe("the device list while the account's server cannot be asked", () => {
  it("shows this device from its own certificate, and says why the list stops there (PWA: the core itself)", async () => {
    const { store, deviceId } = await deviceAway();
    const client = new EmsgClient({ store, transport: fetchTransport, clock: { now: () => Date.now() } });
    expect(await client.open()).toBe(true);
    const devices = new DevicesViewModel({ client, locale: "en" });
    await devices.load();
    expect(devices.rows).toEqual([{ deviceId, label: "Alice's laptop", added: new Date(CREATED).toLocaleDateString("en"), current: true }]);
    expect(devices.error).toBe(`The server at ${AWAY} cannot be reached right now.`);
  });

  it("is answered by the extension's background, which holds the keys, without the server", async () => {
    const { store, deviceId } = await deviceAway();
    const context = { service: new ClientService(store, fetchTransport), openPanel: async () => "side-panel" as const };
    expect(await handleRequest({ type: "devices" }, PANEL, SELF, context)).toEqual({ ok: false, error: "unavailable", message: `The server at ${AWAY} cannot be reached right now.` });
    expect(await handleRequest({ type: "this-device" }, PANEL, SELF, context)).toEqual({ ok: true, device: { deviceId, label: "Alice's laptop", created: CREATED, current: true } });
  });
});
