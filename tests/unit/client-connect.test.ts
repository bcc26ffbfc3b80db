import { describe, expect, it } from "vitest";
import { asAddress, asDomain } from "../../shared/address.js";
import { accountRecord } from "../../shared/client/account.js";
import { saveAccount } from "../../shared/client/account-record.js";
import { EmsgClient } from "../../shared/client/client.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { HttpResponse, SocketLike, Transport } from "../../shared/client/transport.js";
import { buildDiscoveryDoc } from "../../shared/discovery.js";
import { generateKeyPair, keyIdOf } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";

const json = (status: number, body: unknown): HttpResponse => ({ status, text: async () => JSON.stringify(body) });

describe("the mailbox socket", () => {
  it("takes the backlog that arrives in the same turn as the socket's open, and acknowledges it", async () => {
    const now = Date.now();
    const record = accountRecord(asAddress("alice#im.alice.test"), generateKeyPair(), generateKeyPair(), { label: "test", origin: "http://127.0.0.1:9", now });
    const store = new MemoryStore();
    await saveAccount(store, record);
    const serverKey = generateKeyPair();
    const sent: string[] = [];
    const backlog = { t: "items", items: [{ seq: 7, at: now, kind: "bounce", ref: randomId16(), to: "bob#im.bob.test", error: "stranger_refused" }] };
    const transport: Transport = {
      fetch: async (url) => {
        const path = new URL(url).pathname;
        if (path === "/.well-known/emsg") {
          return json(200, buildDiscoveryDoc({ domain: asDomain("im.alice.test"), keys: [{ kid: keyIdOf(serverKey.publicKey), key: serverKey.publicKey }], software: "fake" }));
        }
        if (path.endsWith("/ws-ticket")) return json(200, { ticket: "t", expires: now + 60_000 });
        return json(404, { error: "not_found", message: path });
      },
      openSocket: () => {
        const socket: SocketLike = { send: (data) => void sent.push(data), close: () => {}, onopen: null, onmessage: null, onclose: null, onerror: null };
        // Node's ws emits both from one read when the upgrade's answer and the first frame arrive together.
        setTimeout(() => {
          socket.onopen?.();
          socket.onmessage?.(JSON.stringify(backlog));
        }, 0);
        return socket;
      },
    };
    const client = new EmsgClient({ store, transport, clock: { now: () => Date.now() } });
    expect(await client.open()).toBe(true);
    await client.connect();
    await client.idle();
    expect(sent.map((frame) => JSON.parse(frame) as unknown)).toContainEqual({ t: "ack", upTo: 7 });
    client.disconnect();
  });
});
