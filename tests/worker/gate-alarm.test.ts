import { describe, expect, it } from "vitest";
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Domain } from "../../shared/address.js";
import { randomId16 } from "../../shared/ids.js";
import type { FedResult } from "../../shared/wire/index.js";
import { recordsOf } from "../../worker/gate.js";

describe("a gate's cleanup keeps what is still in force", () => {
  it("keeps a peer's dedupe records when nothing else is left, and answers repeats with them after the cleanup", async () => {
    const from = "im.gate-alarm-a.test" as Domain;
    const gate = env.GATE.get(env.GATE.idFromName(`peer:${from}`));
    const results: FedResult[] = [
      { id: randomId16(), ok: true },
      { id: randomId16(), error: "forbidden", message: "Not the hub." },
    ];
    await gate.remember(from, recordsOf(results));
    await runDurableObjectAlarm(gate);
    const seen = await gate.admit({ keyId: "", nonce: "", limits: [] }, { from, ids: results.map((r) => r.id) });
    expect(seen).toEqual({ ok: true, value: { wait: null, seen: Object.fromEntries(results.map((r) => [r.id, r])) } });
  });

  it("keeps a nonce still inside its replay window when its bucket went idle, so the same signature stays refused", async () => {
    const gate = env.GATE.get(env.GATE.idFromName("peer:im.gate-alarm-b.test"));
    const admit = { keyId: "server:im.gate-alarm-b.test/k1", nonce: randomId16(), limits: [{ scope: "peer" as const, subject: "im.gate-alarm-b.test" }] };
    expect((await gate.admit(admit)).ok).toBe(true);
    await runInDurableObject(gate, (_i, state) => void state.storage.sql.exec("UPDATE buckets SET at = 0"));
    await runDurableObjectAlarm(gate);
    const again = await gate.admit(admit);
    expect(again.ok).toBe(false);
    expect(again.ok ? undefined : again.error.error).toBe("unauthorized");
  });
});
