import { describe, expect, it } from "vitest";
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { toB64u } from "../../shared/base64url.js";
import { parseDiscoveryDoc } from "../../shared/discovery.js";
import { certifyDevice, deviceIdOf, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { API, DOMAIN, anotherDevice, call, errorOf, newDevice, register, registered, signedRequest } from "./harness.js";
import type { Domain } from "../../shared/address.js";

describe("discovery", () => {
  it("serves a discovery document with a stable server key", async () => {
    const first = parseDiscoveryDoc(await (await SELF.fetch(`https://${DOMAIN}/.well-known/emsg`)).json(), DOMAIN);
    const second = parseDiscoveryDoc(await (await SELF.fetch(`https://${DOMAIN}/.well-known/emsg`)).json(), DOMAIN);
    expect(first.domain).toBe(DOMAIN);
    expect(first.api).toBe("/emsg/v1");
    expect(first.keys).toHaveLength(1);
    expect(second.keys).toEqual(first.keys);
  });

  it("answers unknown API paths with a JSON not_found", async () => {
    const res = await SELF.fetch(`https://${DOMAIN}/emsg/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });
});

describe("registration", () => {
  it("registers a new account and shows it back to its device", async () => {
    const d = newDevice("reg");
    const res = await register(d);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ address: d.address, deviceId: d.deviceId });
    const view = await call(d, "GET", "/account");
    expect(view.status).toBe(200);
    expect(await view.json()).toEqual({
      address: d.address,
      accountKey: toB64u(d.account.publicKey),
      devices: [d.cert],
      settings: { strangers: "accept", retentionDays: null },
    });
  });

  it("refuses a name that is taken", async () => {
    const taken = await registered("dup");
    const account = generateKeyPair();
    const device = generateKeyPair();
    const cert = certifyDevice(account, taken.address, device.publicKey, "squatter", Date.now());
    const res = await register({ address: taken.address, account, device, deviceId: deviceIdOf(device.publicKey), cert });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toBe("conflict");
  });

  it("refuses a certificate signed by another account key", async () => {
    const d = newDevice("badcert");
    const res = await call(d, "POST", "/accounts", { address: d.address, accountKey: toB64u(generateKeyPair().publicKey), deviceCert: d.cert });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe("unauthorized");
  });

  it("refuses a malformed certificate", async () => {
    const d = newDevice("malformed");
    const res = await call(d, "POST", "/accounts", { address: d.address, accountKey: toB64u(d.account.publicKey), deviceCert: { body: {}, sig: "x" } });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe("bad_request");
  });

  it("refuses an address of another domain", async () => {
    const d = newDevice("elsewhere", "im.carol.test" as Domain);
    const res = await register(d);
    expect(res.status).toBe(400);
  });

  it("refuses garbage JSON and oversize bodies before anything else", async () => {
    const d = newDevice("garbage");
    const garbage = await call(d, "POST", "/accounts", undefined, { rawBody: new TextEncoder().encode("{not json") });
    expect(garbage.status).toBe(400);
    expect(await errorOf(garbage)).toBe("bad_request");
    const huge = await call(d, "POST", "/accounts", undefined, { rawBody: new Uint8Array(300_000).fill(32) });
    expect(huge.status).toBe(413);
    expect(await errorOf(huge)).toBe("too_large");
    // A body of undeclared length (sent in chunks) is cut off at the limit as well.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(100_000).fill(32));
        controller.close();
      },
    });
    const chunked = await SELF.fetch(`${API}/accounts`, { method: "POST", body: chunks, headers: { "content-type": "application/json" } });
    expect(chunked.headers.get("content-type")).toContain("application/json");
    expect(chunked.status).toBe(413);
    expect(await errorOf(chunked)).toBe("too_large");
  });
});

describe("signed requests", () => {
  it("refuses a request without a signature", async () => {
    const res = await SELF.fetch(`https://${DOMAIN}/emsg/v1/account`, { headers: { "emsg-to": DOMAIN } });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe("unauthorized");
  });

  it("refuses a signature by another key", async () => {
    const d = await registered("forged");
    const res = await call(d, "GET", "/account", undefined, { signWith: generateKeyPair().privateKey });
    expect(res.status).toBe(401);
  });

  it("refuses an expired signature", async () => {
    const d = await registered("expired");
    const res = await call(d, "GET", "/account", undefined, { created: Math.floor(Date.now() / 1000) - 301 });
    expect(res.status).toBe(401);
  });

  it("refuses a replayed nonce", async () => {
    const d = await registered("replay");
    const nonce = randomId16();
    expect((await call(d, "GET", "/account", undefined, { nonce })).status).toBe(200);
    const again = await call(d, "GET", "/account", undefined, { nonce });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: "unauthorized", message: expect.stringMatching(/nonce/) });
  });

  it("refuses a signature meant for another server", async () => {
    const d = await registered("wrongto");
    const res = await call(d, "GET", "/account", undefined, { emsgTo: "im.bob.test" });
    expect(res.status).toBe(401);
  });

  it("refuses a body altered after signing", async () => {
    const d = await registered("tamper");
    const req = signedRequest(d, "PUT", "/account/settings", { strangers: "accept", retentionDays: null });
    const tampered = new Request(req.url, { method: "PUT", headers: req.headers, body: JSON.stringify({ strangers: "refuse", retentionDays: null }) });
    const res = await SELF.fetch(tampered);
    expect(res.status).toBe(401);
  });

  it("refuses an unknown device", async () => {
    const d = await registered("nodev");
    const stranger = newDevice();
    const res = await call({ ...d, device: stranger.device, deviceId: stranger.deviceId }, "GET", "/account");
    expect(res.status).toBe(401);
  });

  it("answers rate_limited with Retry-After once an account's bucket is empty", async () => {
    const d = await registered("busy");
    let limited: Response | undefined;
    for (let i = 0; i < 80 && !limited; i++) {
      const res = await call(d, "GET", "/account");
      if (res.status === 429) limited = res;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await errorOf(limited!)).toBe("rate_limited");
  });
});

describe("settings and devices", () => {
  it("stores settings and refuses out-of-range ones", async () => {
    const d = await registered("settings");
    const ok = await call(d, "PUT", "/account/settings", { strangers: "review", retentionDays: 7 });
    expect(await ok.json()).toEqual({ strangers: "review", retentionDays: 7 });
    const bad = await call(d, "PUT", "/account/settings", { strangers: "review", retentionDays: 0 });
    expect(bad.status).toBe(400);
    const view = (await (await call(d, "GET", "/account")).json()) as { settings: unknown };
    expect(view.settings).toEqual({ strangers: "review", retentionDays: 7 });
  });

  it("adds a second device that can sign, and removes it", async () => {
    const d = await registered("devices");
    const second = anotherDevice(d);
    const added = await call(d, "POST", "/account/devices", { deviceCert: second.cert });
    expect(added.status).toBe(201);
    expect((await call(second, "GET", "/account")).status).toBe(200);
    expect((await call(d, "DELETE", `/account/devices/${second.deviceId}`)).status).toBe(204);
    expect((await call(second, "GET", "/account")).status).toBe(401);
  });
});

describe("browsers on other origins", () => {
  it("answers a CORS preflight for signed API calls", async () => {
    const res = await SELF.fetch(`https://${DOMAIN}/emsg/v1/account`, {
      method: "OPTIONS",
      headers: { origin: "chrome-extension://abc", "access-control-request-method": "GET", "access-control-request-headers": "signature, signature-input, emsg-to" },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toMatch(/signature-input/);
  });
});

describe("server housekeeping", () => {
  it("forgets nonces once they are outside every replay window, and keeps recent ones", async () => {
    const d = await registered("sweep");
    const nonce = randomId16();
    expect((await call(d, "GET", "/account", undefined, { nonce })).status).toBe(200);
    // A device's nonces are kept by its account's gate.
    const gate = env.GATE.get(env.GATE.idFromName(`account:${d.address}`));
    await runInDurableObject(gate, async (_i, state) => {
      state.storage.sql.exec("INSERT INTO nonces (key_id, nonce, at) VALUES ('device:old#im.alice.test/x', 'n', ?)", Date.now() - 3600_000);
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(gate);
    const left = await runInDurableObject(gate, (_i, state) =>
      state.storage.sql.exec<{ nonce: string }>("SELECT nonce FROM nonces WHERE nonce IN ('n', ?)", nonce).toArray().map((r) => r.nonce),
    );
    expect(left).toEqual([nonce]);
    expect((await call(d, "GET", "/account", undefined, { nonce })).status).toBe(401);
  });
});
