import { describe, expect, it } from "vitest";
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { callCounts, counted } from "../../worker/call-counts.js";
import type { GateAdmit } from "../../worker/gate.js";
import { randomId16 } from "../../shared/ids.js";
import { enqueueRemote, outboxShards, type Queued } from "../../worker/routing.js";
import type { Address, Domain } from "../../shared/address.js";
import type { FedItem } from "../../shared/wire/index.js";
import { DOMAIN, call, registered } from "./harness.js";

const ipLimit = (ip: string): GateAdmit => ({ keyId: "", nonce: "", limits: [{ scope: "ip", subject: ip }] });

describe("gates: replay and rate state per subject", () => {
  it("keeps a device's nonces in its account's gate, so the same nonce is refused there and another account's gate knows nothing of it", async () => {
    const alice = await registered("gate-a");
    const bob = await registered("gate-b");
    const nonce = randomId16();
    expect((await call(alice, "GET", "/account", undefined, { nonce })).status).toBe(200);
    expect((await call(bob, "GET", "/account", undefined, { nonce })).status).toBe(200);
    expect((await call(alice, "GET", "/account", undefined, { nonce })).status).toBe(401);
    const nonces = (address: string) =>
      runInDurableObject(env.GATE.get(env.GATE.idFromName(`account:${address}`)), (_i, state) =>
        state.storage.sql.exec<{ key_id: string }>("SELECT key_id FROM nonces WHERE nonce = ?", nonce).toArray().map((r) => r.key_id),
      );
    expect(await nonces(alice.address)).toEqual([`device:${alice.address}/${alice.deviceId}`]);
    expect(await nonces(bob.address)).toEqual([`device:${bob.address}/${bob.deviceId}`]);
  });

  it("deletes the storage of a gate whose rows all expired, and takes requests again afterwards", async () => {
    const gate = env.GATE.get(env.GATE.idFromName("ip:203.0.113.9"));
    expect((await gate.admit(ipLimit("203.0.113.9"))).ok).toBe(true);
    await runInDurableObject(gate, (_i, state) => {
      state.storage.sql.exec("UPDATE buckets SET at = ?", Date.now() - 3600_000);
    });
    await runDurableObjectAlarm(gate);
    const tables = () => runInDurableObject(gate, (_i, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray().length);
    expect(await tables()).toBe(0);
    expect(await gate.admit(ipLimit("203.0.113.9"))).toEqual({ ok: true, value: { wait: null, seen: {} } });
    expect(await tables()).toBeGreaterThan(0);
  });
});

describe("call counts (benchmark servers only)", () => {
  it("counts every call through a stub per object when EMSG_COUNT_CALLS=1, and nothing otherwise", async () => {
    callCounts(true);
    const bench = { ...env, EMSG_COUNT_CALLS: "1" };
    const [one, two] = ["ip:198.51.100.1", "ip:198.51.100.2"].map((name) => env.GATE.idFromName(name));
    const first = counted(bench, "Gate", one!, env.GATE.get(one!));
    await first.admit(ipLimit("198.51.100.1"));
    await first.admit(ipLimit("198.51.100.1"));
    await counted(bench, "Gate", two!, env.GATE.get(two!)).admit(ipLimit("198.51.100.2"));
    await counted(env, "Gate", two!, env.GATE.get(two!)).admit(ipLimit("198.51.100.2"));
    expect(callCounts(true)).toEqual([{ kind: "Gate", calls: 3, objects: 2, busiest: 2 }]);
    expect(callCounts(false)).toEqual([]);
  });
});

describe("Outboxes per peer domain (EMSG_OUTBOX_SHARDS)", () => {
  it("spreads a peer's items over the shards by conversation, every item of a conversation in one of them", async () => {
    const sharded = { ...env, EMSG_OUTBOX_SHARDS: "4" };
    const peer = "im.carol.test" as Domain;
    const refs = Array.from({ length: 8 }, (_, i) => `${DOMAIN}/shardtest${i}`);
    const queued: Queued[] = refs.flatMap((conversation) =>
      [0, 1].map(() => {
        const to = `bob#${peer}` as Address;
        return { item: { id: randomId16(), kind: "bounce", sender: to, ref: randomId16(), to, error: "not_found", conversation } as FedItem, bounceTo: null, ref: randomId16(), to, conversation };
      }),
    );
    await enqueueRemote(sharded, peer, queued);
    const shards = [peer, `${peer}#1`, `${peer}#2`, `${peer}#3`].map((name) => env.OUTBOX.get(env.OUTBOX.idFromName(name)));
    const held = await Promise.all(
      shards.map((box) => runInDurableObject(box, (_i, state) => state.storage.sql.exec<{ conversation: string }>("SELECT conversation FROM queue").toArray().map((r) => r.conversation))),
    );
    expect(held.flat().sort()).toEqual(refs.flatMap((r) => [r, r]).sort());
    expect(held.filter((rows) => rows.length > 0).length).toBeGreaterThan(1);
    const owners = refs.map((ref) => held.filter((rows) => rows.includes(ref)).length);
    expect(owners).toEqual(refs.map(() => 1));
    expect(() => outboxShards({ ...env, EMSG_OUTBOX_SHARDS: "0" })).toThrow(/EMSG_OUTBOX_SHARDS/);
  });
});
