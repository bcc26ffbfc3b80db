import { describe, expect, it } from "vitest";
import { SELF, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { toB64u } from "../../shared/base64url.js";
import { LINK_SEALED_MAX_CHARS } from "../../shared/wire/account.js";
import { certifyDevice, deviceIdOf, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem } from "../../shared/wire/index.js";
import { API, accountStub, anotherDevice, call, enc, errorOf, registered, signedRequest, type Device } from "./harness.js";
import { keyPackagesOf } from "./mls.js";

/** A sealed-looking body: the server cannot tell it from a real bundle, nor should it. */
function upload(id = randomId16(), chars = 400) {
  return { id, nonce: toB64u(crypto.getRandomValues(new Uint8Array(24))), sealed: "A".repeat(chars) };
}

function fetchLink(address: string, id: string): Promise<Response> {
  return SELF.fetch(`${API}/links/${enc(address)}/${id}`);
}

/** A link a device of `d`'s account uploaded and the new device fetched: what admits a device adding itself. */
async function liveLink(d: Device): Promise<string> {
  const body = upload();
  expect((await call(d, "POST", "/account/links", body)).status).toBe(201);
  expect((await fetchLink(d.address, body.id)).status).toBe(200);
  return body.id;
}

/** The new device's own request to join the account: signed by its own, not yet known, key. */
function selfAdd(d: Device, body: Record<string, unknown> = {}, o: Parameters<typeof signedRequest>[4] = {}): Promise<Response> {
  return SELF.fetch(signedRequest(d, "POST", "/account/devices", { deviceCert: d.cert, ...body }, o));
}

async function mailOf(d: Device, after = 0): Promise<MailItem[]> {
  return ((await (await call(d, "GET", `/mailbox?after=${after}`)).json()) as { items: MailItem[] }).items;
}

describe("device links", () => {
  it("keeps a sealed link for ten minutes and hands it out exactly once, without a signature", async () => {
    const alice = await registered("link");
    const body = upload();
    const res = await call(alice, "POST", "/account/links", body);
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; expires: number };
    expect(created.id).toBe(body.id);
    expect(created.expires - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(created.expires - Date.now()).toBeLessThanOrEqual(10 * 60_000);

    const first = await fetchLink(alice.address, body.id);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ address: alice.address, id: body.id, nonce: body.nonce, sealed: body.sealed, expires: created.expires });
    const again = await fetchLink(alice.address, body.id);
    expect(again.status).toBe(404);
    expect(await errorOf(again)).toBe("not_found");
  });

  it("refuses an unsigned upload, a reused id, garbage and an oversized bundle", async () => {
    const alice = await registered("linkbad");
    const body = upload();
    const unsigned = await SELF.fetch(`${API}/account/links`, { method: "POST", headers: { "content-type": "application/json", "emsg-to": "im.alice.test" }, body: JSON.stringify(body) });
    expect(unsigned.status).toBe(401);
    expect((await call(alice, "POST", "/account/links", body)).status).toBe(201);
    const reused = await call(alice, "POST", "/account/links", body);
    expect(reused.status).toBe(409);
    expect(await errorOf(reused)).toBe("conflict");
    for (const bad of [{ ...body, id: "short" }, { ...body, id: randomId16(), nonce: "AAAA" }, { ...body, id: randomId16(), sealed: "not base64url!" }, { id: randomId16() }]) {
      const res = await call(alice, "POST", "/account/links", bad);
      expect(res.status, JSON.stringify(bad).slice(0, 80)).toBe(400);
      expect(await errorOf(res)).toBe("bad_request");
    }
    const huge = await call(alice, "POST", "/account/links", upload(randomId16(), LINK_SEALED_MAX_CHARS + 4));
    expect(huge.status).toBe(413);
    expect(await errorOf(huge)).toBe("too_large");
    const fits = await call(alice, "POST", "/account/links", upload(randomId16(), LINK_SEALED_MAX_CHARS));
    expect(fits.status).toBe(201);
  });

  it("answers garbage ids and addresses with typed errors, and unknown links with not_found", async () => {
    const alice = await registered("linkget");
    expect(await errorOf(await fetchLink(alice.address, "not-an-id"))).toBe("bad_request");
    expect(await errorOf(await fetchLink("NOT AN ADDRESS", randomId16()))).toBe("bad_request");
    expect(await errorOf(await fetchLink(alice.address, randomId16()))).toBe("not_found");
    expect(await errorOf(await fetchLink("nobody#im.alice.test", randomId16()))).toBe("not_found");
    expect(await errorOf(await fetchLink("alice#im.bob.test", randomId16()))).toBe("not_found");
  });

  it("forgets a link once it expired, and its alarm removes it from storage", async () => {
    const alice = await registered("linkexp");
    const body = upload();
    await call(alice, "POST", "/account/links", body);
    const stub = accountStub(alice.address);
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("UPDATE links SET expires = ?", Date.now() - 1);
    });
    expect(await errorOf(await fetchLink(alice.address, body.id))).toBe("not_found");

    const second = upload();
    await call(alice, "POST", "/account/links", second);
    await runInDurableObject(stub, async (_i, state) => {
      state.storage.sql.exec("UPDATE links SET expires = ?", Date.now() - 1);
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(stub);
    const left = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec("SELECT id FROM links").toArray());
    expect(left).toEqual([]);
  });

  it("keeps at most three live links per account: a fourth replaces the oldest", async () => {
    const alice = await registered("linkmany");
    const bodies = [upload(), upload(), upload(), upload()];
    for (const b of bodies) expect((await call(alice, "POST", "/account/links", b)).status).toBe(201);
    expect((await fetchLink(alice.address, bodies[0]!.id)).status).toBe(404);
    for (const b of bodies.slice(1)) expect((await fetchLink(alice.address, b.id)).status).toBe(200);
  });
});

describe("a device adding itself", () => {
  it("joins with a certificate of the account key, signing with its own key, with its first KeyPackages", async () => {
    const alice = await registered("self");
    const before = await mailOf(alice);
    const phone = anotherDevice(alice);
    const link = await liveLink(alice);
    const keyPackages = await keyPackagesOf(phone, 3);
    const res = await selfAdd(phone, { link, keyPackages });
    expect(res.status).toBe(201);
    const added = (await res.json()) as { deviceId: string; after: number };
    expect(added).toEqual({ deviceId: phone.deviceId, after: before.at(-1)?.seq ?? 0 });

    expect((await call(phone, "GET", "/account")).status).toBe(200);
    const view = (await (await call(alice, "GET", "/account")).json()) as { devices: unknown[] };
    expect(view.devices).toEqual([alice.cert, phone.cert]);
    // The account's devices hear of it, with the link that brought it.
    expect((await mailOf(alice)).at(-1)).toMatchObject({ kind: "device_added", deviceCert: phone.cert, link });
    // Its KeyPackages are there from the start: a claim never sees it empty-handed.
    const claimer = await registered("claimer");
    const claim = (await (await call(claimer, "POST", "/directory/claim", { address: alice.address })).json()) as { devices: { keyPackage: string | null }[] };
    expect(claim.devices.map((d) => d.keyPackage)).toEqual([null, keyPackages[0]]);
  });

  it("refuses a certificate signed by another account key", async () => {
    const alice = await registered("selfbad");
    const device = generateKeyPair();
    const cert = certifyDevice(generateKeyPair(), alice.address, device.publicKey, "thief", Date.now());
    const thief: Device = { ...alice, device, deviceId: deviceIdOf(device.publicKey), cert };
    const res = await selfAdd(thief, { link: await liveLink(alice) });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe("unauthorized");
  });

  it("refuses a certificate that is not fresh, so a captured request cannot be used later", async () => {
    const alice = await registered("selfold");
    const device = generateKeyPair();
    const cert = certifyDevice(alice.account, alice.address, device.publicKey, "old", Date.now() - 10 * 60_000);
    const res = await selfAdd({ ...alice, device, deviceId: deviceIdOf(device.publicKey), cert }, { link: await liveLink(alice) });
    expect(res.status).toBe(401);
    expect((await res.json()) as { message: string }).toMatchObject({ message: expect.stringMatching(/fresh/) });
  });

  it("refuses a request signed by any key but the certificate's", async () => {
    const alice = await registered("selfkey");
    const phone = anotherDevice(alice);
    const link = await liveLink(alice);
    expect(await errorOf(await selfAdd(phone, { link }, { signWith: generateKeyPair().privateKey }))).toBe("unauthorized");
    const other = anotherDevice(alice);
    expect(await errorOf(await selfAdd(phone, { link }, { keyId: `device:${alice.address}/${other.deviceId}` }))).toBe("unauthorized");
    expect((await call(phone, "GET", "/account")).status).toBe(401);
  });

  it("refuses a replayed request, and a second add of the same device", async () => {
    const alice = await registered("selfreplay");
    const phone = anotherDevice(alice);
    const nonce = randomId16();
    const link = await liveLink(alice);
    expect((await selfAdd(phone, { link }, { nonce })).status).toBe(201);
    const replayed = await selfAdd(phone, { link }, { nonce });
    expect(replayed.status).toBe(401);
    const twice = await selfAdd(phone, { link: await liveLink(alice) });
    expect(twice.status).toBe(409);
    expect(await errorOf(twice)).toBe("conflict");
  });

  it("refuses an account that does not exist, a certificate for another address, and garbage", async () => {
    const ghost = anotherDevice(await registered("real"));
    const nobody = { ...ghost, address: "nobody#im.alice.test" as Device["address"] };
    nobody.cert = certifyDevice(ghost.account, nobody.address, ghost.device.publicKey, "x", Date.now());
    expect(await errorOf(await selfAdd(nobody))).toBe("unauthorized");

    const alice = await registered("selfaddr");
    const phone = anotherDevice(alice);
    const elsewhere = await registered("other");
    const res = await SELF.fetch(signedRequest({ ...phone, address: elsewhere.address }, "POST", "/account/devices", { deviceCert: phone.cert }));
    expect(await errorOf(res)).toBe("unauthorized");

    expect(await errorOf(await selfAdd(phone, { link: "nope" }))).toBe("bad_request");
    expect(await errorOf(await selfAdd(phone, { keyPackages: [] }))).toBe("bad_request");
    const [one] = await keyPackagesOf(phone, 1);
    expect(await errorOf(await selfAdd(phone, { keyPackages: Array.from({ length: 51 }, () => one) }))).toBe("bad_request");
    expect(await errorOf(await SELF.fetch(signedRequest(phone, "POST", "/account/devices", undefined, { rawBody: new TextEncoder().encode("{") })))).toBe("bad_request");
  });

  it("starts the new device after the backlog it could not read", async () => {
    const alice = await registered("selfbacklog");
    const other = await registered("friendly");
    await call(other, "POST", "/friends/requests", {
      request: (await import("./harness.js")).friendRequest(other, alice.address),
    });
    const phone = anotherDevice(alice);
    const { after } = (await (await selfAdd(phone, { link: await liveLink(alice) })).json()) as { after: number };
    expect(after).toBe(1);
    const items = await mailOf(phone, after);
    expect(items.map((i) => i.kind)).toEqual(["device_added"]);
  });
});

describe("revocation: who may add a device", () => {
  it("admits a device adding itself only through a link fetched in the last ten minutes, once", async () => {
    const alice = await registered("revlink");
    const phone = anotherDevice(alice);
    // The account key alone, which every linked device holds, is not enough.
    expect(await errorOf(await selfAdd(phone))).toBe("unauthorized");
    expect(await errorOf(await selfAdd(phone, { link: randomId16() }))).toBe("unauthorized");
    // Uploaded but never fetched: nobody with the code has come for it.
    const unfetched = upload();
    await call(alice, "POST", "/account/links", unfetched);
    expect(await errorOf(await selfAdd(phone, { link: unfetched.id }))).toBe("unauthorized");
    // Fetched more than ten minutes ago.
    const stale = await liveLink(alice);
    await runInDurableObject(accountStub(alice.address), (_i, state) => {
      state.storage.sql.exec("UPDATE links SET expires = ? WHERE id = ?", Date.now() - 1, stale);
    });
    expect(await errorOf(await selfAdd(phone, { link: stale }))).toBe("unauthorized");
    expect((await call(phone, "GET", "/account")).status).toBe(401);

    const link = await liveLink(alice);
    expect((await selfAdd(phone, { link })).status).toBe(201);
    // A link admits one device.
    expect(await errorOf(await selfAdd(anotherDevice(alice), { link }))).toBe("unauthorized");
  });

  it("keeps no bundle once it is fetched, only the id that admits the device", async () => {
    const alice = await registered("revbundle");
    const link = await liveLink(alice);
    const rows = await runInDurableObject(accountStub(alice.address), (_i, state) => state.storage.sql.exec("SELECT id, sealed FROM links").toArray());
    expect(rows).toEqual([{ id: link, sealed: "" }]);
  });

  it("never takes a removed device back: not by itself, with its old or a fresh certificate, nor from a current device", async () => {
    const alice = await registered("revoke");
    const phone = anotherDevice(alice);
    expect((await selfAdd(phone, { link: await liveLink(alice) })).status).toBe(201);
    expect((await call(alice, "DELETE", `/account/devices/${phone.deviceId}`)).status).toBe(204);

    // Its requests are refused: it is no device of the account any more, and it is told so.
    for (const [method, path, body] of [["GET", "/account"], ["POST", "/ws-ticket"], ["POST", "/account/links", upload()], ["POST", "/sessions/ticket", { conversation: `im.alice.test/${randomId16()}` }]] as const) {
      const res = await call(phone, method, path, body);
      expect(res.status, path).toBe(401);
      expect(await errorOf(res), path).toBe("device_removed");
    }
    // Its certificate, still fresh, and one it signs anew with the account key it holds.
    const recertified = { ...phone, cert: certifyDevice(phone.account, phone.address, phone.device.publicKey, "back", Date.now()) };
    for (const d of [phone, recertified]) {
      const res = await selfAdd(d);
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toBe("unauthorized");
    }
    // Its id is tombstoned: even a link of the account and a current device's signature do not bring it back.
    const withLink = await selfAdd(recertified, { link: await liveLink(alice) });
    expect(withLink.status).toBe(403);
    expect(await errorOf(withLink)).toBe("forbidden");
    const byAlice = await call(alice, "POST", "/account/devices", { deviceCert: recertified.cert });
    expect(byAlice.status).toBe(403);
    expect(await errorOf(byAlice)).toBe("forbidden");
    // A new device key of its own, freshly certified, still needs a live link.
    expect(await errorOf(await selfAdd(anotherDevice(alice)))).toBe("unauthorized");
    const view = (await (await call(alice, "GET", "/account")).json()) as { devices: unknown[] };
    expect(view.devices).toEqual([alice.cert]);
  });

  it("says `device_removed` only to the removed device's own signature, and not for a device removed before its key was kept", async () => {
    const alice = await registered("revtold");
    const phone = anotherDevice(alice);
    expect((await selfAdd(phone, { link: await liveLink(alice) })).status).toBe(201);
    expect((await call(alice, "DELETE", `/account/devices/${phone.deviceId}`)).status).toBe(204);
    expect(await errorOf(await call(phone, "GET", "/account"))).toBe("device_removed");
    // Anyone else naming its keyid learns nothing of it.
    expect(await errorOf(await SELF.fetch(signedRequest(phone, "GET", "/account", undefined, { signWith: generateKeyPair().privateKey })))).toBe("unauthorized");
    await runInDurableObject(accountStub(alice.address), (_i, state) => void state.storage.sql.exec("UPDATE removed_devices SET device_key = NULL"));
    expect(await errorOf(await call(phone, "GET", "/account"))).toBe("unauthorized");
    expect((await call(alice, "GET", "/account")).status).toBe(200);
  });

  it("drops the links a removed device uploaded, so it cannot bring in a new key through one", async () => {
    const alice = await registered("revown");
    const phone = anotherDevice(alice);
    expect((await selfAdd(phone, { link: await liveLink(alice) })).status).toBe(201);
    const waiting = upload();
    expect((await call(phone, "POST", "/account/links", waiting)).status).toBe(201);
    const fetched = await liveLink(phone);
    expect((await call(alice, "DELETE", `/account/devices/${phone.deviceId}`)).status).toBe(204);
    expect(await errorOf(await fetchLink(alice.address, waiting.id))).toBe("not_found");
    const accomplice = anotherDevice(phone);
    expect(await errorOf(await selfAdd(accomplice, { link: fetched }))).toBe("unauthorized");
    // Alice's own links still work.
    expect((await selfAdd(accomplice, { link: await liveLink(alice) })).status).toBe(201);
  });

  it("leaves the link unused when the add is refused", async () => {
    const alice = await registered("revkeep");
    const phone = anotherDevice(alice);
    expect((await selfAdd(phone, { link: await liveLink(alice) })).status).toBe(201);
    expect((await call(alice, "DELETE", `/account/devices/${phone.deviceId}`)).status).toBe(204);
    const link = await liveLink(alice);
    expect((await selfAdd(phone, { link })).status).toBe(403);
    expect((await selfAdd(anotherDevice(alice), { link })).status).toBe(201);
  });
});
