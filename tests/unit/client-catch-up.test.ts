import { describe, expect, it } from "vitest";
import { asAddress, asDomain } from "../../shared/address.js";
import { accountRecord } from "../../shared/client/account.js";
import { saveAccount } from "../../shared/client/account-record.js";
import { EmsgClient } from "../../shared/client/client.js";
import { StoreBatch } from "../../shared/client/store-batch.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { HttpResponse, SocketLike, Transport } from "../../shared/client/transport.js";
import { buildDiscoveryDoc } from "../../shared/discovery.js";
import { certifyDevice, generateKeyPair, keyIdOf } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { createGroup, epochOf } from "../../shared/mls/index.js";
import { decodeGroupState } from "../../shared/mls/state-codec.js";
import { translator } from "../../ui/i18n/translate.js";
import { catchUpBanner } from "../../ui/view-models/connectivity.js";

const json = (status: number, body: unknown): HttpResponse => ({ status, text: async () => JSON.stringify(body) });

describe("a mailbox frame's batch of writes", () => {
  it("is seen by its own reads, reaches the store only at once on commit, with each state encoded then", async () => {
    const base = new MemoryStore();
    await base.put("conv/a", { conversation: "a", unread: 0 });
    await base.put("msg/a/1", { text: "old" });
    const batch = new StoreBatch(base);
    await batch.put("msg/a/2", { text: "new" });
    await batch.delete("msg/a/1");
    const account = generateKeyPair();
    const device = generateKeyPair();
    const me = { deviceCert: certifyDevice(account, asAddress("alice#im.alice.test"), device.publicKey, "test", Date.now()), devicePrivateKey: device.privateKey, devicePublicKey: device.publicKey };
    const state = await createGroup(me, `im.alice.test/${randomId16()}`);
    await batch.put("conv/a", { conversation: "a", unread: 1, group: batch.groupText(state) });

    expect(await batch.list("msg/a/")).toEqual([["msg/a/2", { text: "new" }]]);
    expect(epochOf(await decodeGroupState((await batch.get<{ group: string }>("conv/a"))!.group))).toBe(0);
    // Nothing is in the store yet: a crash now loses the whole frame, which the server sends again.
    expect(await base.list("msg/a/")).toEqual([["msg/a/1", { text: "old" }]]);
    expect(await base.get("conv/a")).toEqual({ conversation: "a", unread: 0 });

    await batch.commit();
    expect(await base.list("msg/a/")).toEqual([["msg/a/2", { text: "new" }]]);
    const stored = await base.get<{ unread: number; group: string }>("conv/a");
    expect(stored?.unread).toBe(1);
    expect(epochOf(await decodeGroupState(stored!.group))).toBe(0);
    expect(stored!.group).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("is looked at without a copy where only read (peek), and a copy taken by get changes nothing in it", async () => {
    const base = new MemoryStore();
    await base.put("conv/a", { conversation: "a", applied: [1, 2] });
    const batch = new StoreBatch(base);
    const copy = (await batch.get<{ applied: number[] }>("conv/a"))!;
    copy.applied.push(3);
    expect(await batch.peek("conv/a")).toEqual({ conversation: "a", applied: [1, 2] });
    await batch.put("conv/a", copy);
    copy.applied.push(4);
    expect(await batch.peek("conv/a")).toEqual({ conversation: "a", applied: [1, 2, 3] });
    expect(await batch.peek("conv/b")).toBeUndefined();
    expect(await base.get("conv/a")).toEqual({ conversation: "a", applied: [1, 2] });
  });
});

describe("a batch's prefetched prefix", () => {
  it("lists what is under it as the batch sees it, without asking the store again, and no key outside it", async () => {
    const base = new MemoryStore();
    await base.put("held/a/m1/1", { change: "edit" });
    await base.put("held/a/m2/1", { change: "react" });
    await base.put("held/ab/m1/1", { change: "not a's" });
    const batch = new StoreBatch(base);
    await batch.put("held/a/m1/0", { change: "new" });
    await batch.prefetch([], ["held/a/"]);
    await batch.delete("held/a/m2/1");
    await batch.put("held/a/m1/2", { change: "newer" });
    await batch.put("msg/a/1", { text: "elsewhere" });
    const listed = { list: 0, get: 0 };
    base.list = () => Promise.reject(new Error(`listed ${++listed.list}`));
    base.get = () => Promise.reject(new Error(`read ${++listed.get}`));

    expect(await batch.list("held/a/m1/")).toEqual([
      ["held/a/m1/0", { change: "new" }],
      ["held/a/m1/1", { change: "edit" }],
      ["held/a/m1/2", { change: "newer" }],
    ]);
    expect(await batch.list("held/a/")).toHaveLength(3);
    expect(await batch.get("held/a/m3/1")).toBeUndefined();
    expect(listed).toEqual({ list: 0, get: 0 });
  });
});

describe("catching up", () => {
  it("tells how much of the backlog sent on connecting is applied, frame by frame, and says so in both languages", async () => {
    const now = Date.now();
    const record = accountRecord(asAddress("alice#im.alice.test"), generateKeyPair(), generateKeyPair(), { label: "test", origin: "http://127.0.0.1:9", now });
    const store = new MemoryStore();
    await saveAccount(store, record);
    const serverKey = generateKeyPair();
    let seq = 0;
    const bounce = () => ({ seq: ++seq, at: now, kind: "bounce", ref: randomId16(), to: "bob#im.bob.test", error: "stranger_refused" });
    const frames = [4, 2, 0].map((left) => JSON.stringify({ t: "items", items: [bounce(), bounce()], left }));
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
        const socket: SocketLike = { send: () => undefined, close: () => {}, onopen: null, onmessage: null, onclose: null, onerror: null };
        setTimeout(() => {
          socket.onopen?.();
          for (const frame of frames) socket.onmessage?.(frame);
        }, 0);
        return socket;
      },
    };
    const client = new EmsgClient({ store, transport, clock: { now: () => Date.now() } });
    const seen: Array<{ done: number; total: number }> = [];
    client.on("catchUp", (progress) => seen.push(progress));
    expect(await client.open()).toBe(true);
    await client.connect();
    await client.idle();
    client.disconnect();
    expect(seen).toEqual([
      { done: 0, total: 6 }, { done: 2, total: 6 },
      { done: 2, total: 6 }, { done: 4, total: 6 },
      { done: 4, total: 6 }, { done: 6, total: 6 },
    ]);

    expect(catchUpBanner({ done: 3200, total: 10000 }, "en", translator("en"))?.text).toBe("Catching up… 3,200 of 10,000");
    expect(catchUpBanner({ done: 3200, total: 10000 }, "zh-CN", translator("zh-CN"))?.text).toBe("正在接收离线消息… 3,200 / 10,000");
    expect(catchUpBanner({ done: 6, total: 6 }, "en", translator("en"))).toBeNull();
  });

  it("tells how much of a backlog polled over HTTP is applied, page by page, as the socket's replay does", async () => {
    const now = Date.now();
    const record = accountRecord(asAddress("alice#im.alice.test"), generateKeyPair(), generateKeyPair(), { label: "test", origin: "http://127.0.0.1:9", now });
    const store = new MemoryStore();
    await saveAccount(store, record);
    const serverKey = generateKeyPair();
    const mailbox = Array.from({ length: 5 }, (_, i) => ({ seq: i + 1, at: now, kind: "bounce", ref: randomId16(), to: "bob#im.bob.test", error: "stranger_refused" }));
    const transport: Transport = {
      fetch: async (url, init) => {
        const { pathname, searchParams } = new URL(url);
        if (pathname === "/.well-known/emsg") {
          return json(200, buildDiscoveryDoc({ domain: asDomain("im.alice.test"), keys: [{ kid: keyIdOf(serverKey.publicKey), key: serverKey.publicKey }], software: "fake" }));
        }
        // Pages of two, each saying how many come after it (PROTOCOL §5).
        if (pathname.endsWith("/mailbox") && (init?.method ?? "GET") === "GET") {
          const after = Number(searchParams.get("after"));
          const rest = mailbox.filter((item) => item.seq > after);
          return json(200, { items: rest.slice(0, 2), more: rest.length > 2, left: Math.max(0, rest.length - 2) });
        }
        if (pathname.endsWith("/mailbox/ack")) return json(200, { ok: true });
        if (pathname.endsWith("/friends")) return json(200, { friends: [] });
        if (pathname.endsWith("/account/keypackages")) return json(200, { stored: 0 });
        return json(404, { error: "not_found", message: pathname });
      },
      openSocket: () => {
        throw new Error("this test polls");
      },
    };
    const client = new EmsgClient({ store, transport, clock: { now: () => Date.now() } });
    const seen: Array<{ done: number; total: number }> = [];
    client.on("catchUp", (progress) => seen.push(progress));
    expect(await client.open()).toBe(true);
    await client.sync();
    expect(seen).toEqual([{ done: 0, total: 5 }, { done: 2, total: 5 }, { done: 4, total: 5 }, { done: 5, total: 5 }]);
  });
});
