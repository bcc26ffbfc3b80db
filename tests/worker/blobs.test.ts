import { describe, expect, it } from "vitest";
import { SELF, createExecutionContext, env, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../worker/index.js";
import { toB64u } from "../../shared/base64url.js";
import { openAttachment, sealAttachment } from "../../shared/attachment-crypto.js";
import { DEFAULT_LIMITS } from "../../shared/discovery.js";
import { signObject } from "../../shared/signed.js";
import { BLOB_PART_BYTES, type BlobDone, type UploadStatus } from "../../shared/wire/blobs.js";
import { blobKey } from "../../worker/blobs.js";
import { API, DOMAIN, call, errorOf, registered, signedRequest, type Device } from "./harness.js";

/* Attachment blobs (PROTOCOL §15.3) in Miniflare's R2: uploaded in signed parts, fetched by id from anywhere. */

async function create(d: Device, size: number, until?: number): Promise<UploadStatus> {
  const res = await call(d, "POST", "/blobs/uploads", until === undefined ? { size } : { size, until });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

function putPart(d: Device, upload: string, n: number, bytes: Uint8Array): Promise<Response> {
  return call(d, "PUT", `/blobs/uploads/${upload}/parts/${n}`, undefined, { rawBody: bytes, headers: { "content-type": "application/octet-stream" } });
}

async function uploadWhole(d: Device, sealed: Uint8Array, until?: number): Promise<BlobDone> {
  const up = await create(d, sealed.length, until);
  for (let n = 1; n <= up.parts; n++) {
    expect((await putPart(d, up.upload, n, sealed.subarray((n - 1) * up.partBytes, n * up.partBytes))).status).toBe(200);
  }
  const done = await call(d, "POST", `/blobs/uploads/${up.upload}/complete`);
  expect(done.status).toBe(200);
  return done.json();
}

/** An open GET, as a device of another domain makes it: no signature. */
const fetchBlob = (blob: string, headers: Record<string, string> = {}) => SELF.fetch(`${API}/blobs/${blob}`, { headers });

/** Megabytes compared at once: vitest's toEqual walks them element by element. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function deletionBody(d: Device) {
  const at = Date.now();
  return {
    deletion: signObject(d.account.privateKey, "account-delete", { address: d.address, at }),
    notice: signObject(d.account.privateKey, "deleted", { address: d.address, at }),
  };
}

describe("attachment blobs", { timeout: 60_000 }, () => {
  it("takes a sealed file in parts, in any order and again after a lost answer, and serves it whole or from an offset", async () => {
    const alice = await registered("blob");
    const key = crypto.getRandomValues(new Uint8Array(32));
    const plain = Uint8Array.from({ length: 65_536 * 100 }, (_, i) => (i * 31) ^ (i >> 16));
    const { sealed, hash } = await sealAttachment(key, plain);
    const up = await create(alice, sealed.length);
    expect(up).toMatchObject({ size: sealed.length, partBytes: BLOB_PART_BYTES, parts: 2, held: [] });
    const part = (n: number) => sealed.subarray((n - 1) * BLOB_PART_BYTES, n * BLOB_PART_BYTES);
    expect((await putPart(alice, up.upload, 2, part(2))).status).toBe(200);
    // The link dropped: the status call says which parts to send yet.
    const status = await call(alice, "GET", `/blobs/uploads/${up.upload}`);
    expect(((await status.json()) as UploadStatus).held).toEqual([2]);
    const early = await call(alice, "POST", `/blobs/uploads/${up.upload}/complete`);
    expect(early.status).toBe(409);
    expect(await early.text()).toContain("Parts 1 are not uploaded");
    expect((await putPart(alice, up.upload, 1, part(1))).status).toBe(200);
    expect((await putPart(alice, up.upload, 1, part(1))).status).toBe(200);
    const done = await call(alice, "POST", `/blobs/uploads/${up.upload}/complete`);
    expect(done.status).toBe(200);
    const blob = (await done.json()) as BlobDone;
    expect(blob).toMatchObject({ blob: up.blob, size: sealed.length });
    expect(blob.until).toBeGreaterThan(Date.now() + (DEFAULT_LIMITS.mailboxTtlDays - 1) * 86_400_000);

    const whole = await fetchBlob(blob.blob);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-length")).toBe(String(sealed.length));
    expect(sameBytes(await openAttachment(key, plain.length, hash, new Uint8Array(await whole.arrayBuffer())), plain)).toBe(true);
    const rest = await fetchBlob(blob.blob, { range: `bytes=${sealed.length - 1000}-` });
    expect(rest.status).toBe(206);
    expect(rest.headers.get("content-range")).toBe(`bytes ${sealed.length - 1000}-${sealed.length - 1}/${sealed.length}`);
    expect(sameBytes(new Uint8Array(await rest.arrayBuffer()), sealed.subarray(sealed.length - 1000))).toBe(true);
    // The upload is finished: it is no longer there to add to.
    expect(await errorOf(await putPart(alice, up.upload, 1, part(1)))).toBe("not_found");
  });

  it("refuses oversize files, parts that do not fit, unknown uploads and blobs, and other accounts' uploads", async () => {
    const alice = await registered("blob");
    const mallory = await registered("blob");
    const over = await call(alice, "POST", "/blobs/uploads", { size: DEFAULT_LIMITS.maxBlobBytes + 1 });
    expect(over.status).toBe(413);
    expect(await errorOf(over)).toBe("too_large");
    expect(await errorOf(await call(alice, "POST", "/blobs/uploads", { size: 0 }))).toBe("bad_request");
    expect(await errorOf(await call(alice, "POST", "/blobs/uploads", { size: 10, until: Date.now() - 1 }))).toBe("bad_request");
    const up = await create(alice, 100);
    expect(await errorOf(await putPart(alice, up.upload, 1, new Uint8Array(99)))).toBe("bad_request");
    expect(await errorOf(await putPart(alice, up.upload, 2, new Uint8Array(100)))).toBe("bad_request");
    expect(await errorOf(await putPart(alice, up.upload, 0, new Uint8Array(100)))).toBe("bad_request");
    const tooBig = await putPart(alice, up.upload, 1, new Uint8Array(BLOB_PART_BYTES + 1));
    expect(await errorOf(tooBig)).toBe("too_large");
    // Mallory names Alice's upload: it is no upload of Mallory's.
    expect(await errorOf(await putPart(mallory, up.upload, 1, new Uint8Array(100)))).toBe("not_found");
    expect(await errorOf(await call(mallory, "GET", `/blobs/uploads/${up.upload}`))).toBe("not_found");
    expect(await errorOf(await call(alice, "GET", `/blobs/uploads/${toB64u(new Uint8Array(16))}`))).toBe("not_found");
    expect(await errorOf(await call(alice, "GET", "/blobs/uploads/nonsense"))).toBe("bad_request");
    const missing = await fetchBlob(toB64u(new Uint8Array(16)));
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toBe("not_found");
    expect(await errorOf(await fetchBlob("not-an-id"))).toBe("bad_request");
    // Unsigned, the upload calls are refused.
    const unsigned = await SELF.fetch(`${API}/blobs/uploads`, { method: "POST", body: JSON.stringify({ size: 5 }), headers: { "content-type": "application/json" } });
    expect(unsigned.status).toBe(401);
    const done = await uploadWhole(alice, new Uint8Array(100).fill(7));
    // A device reads any domain's blob through its own server, signed: this one's straight from R2.
    const own = await call(mallory, "GET", `/blobs/${DOMAIN}/${done.blob}`);
    expect(own.status).toBe(200);
    expect(new Uint8Array(await own.arrayBuffer())).toEqual(new Uint8Array(100).fill(7));
    expect((await SELF.fetch(`${API}/blobs/${DOMAIN}/${done.blob}`)).status).toBe(401);
    expect(await errorOf(await call(mallory, "GET", `/blobs/not..a.domain/${done.blob}`))).toBe("bad_request");
    // The peer cannot be reached (im.bob.test resolves to a closed port here): the peer's failure, not the reader's.
    expect(await errorOf(await call(mallory, "GET", `/blobs/im.bob.test/${done.blob}`))).toBe("peer_unreachable");
    // Another account cannot delete Alice's blob, nor tell from the answer that it exists.
    const theirs = await call(mallory, "DELETE", `/blobs/${done.blob}`);
    const unknown = await call(mallory, "DELETE", `/blobs/${toB64u(new Uint8Array(16).fill(9))}`);
    expect([theirs.status, await theirs.json()]).toEqual([unknown.status, await unknown.json()]);
    expect(unknown.status).toBe(404);
    expect((await fetchBlob(done.blob)).status).toBe(200);
  });

  it("holds an account to its quota, counting uploads in progress, and frees what a cancel or delete gives back", async () => {
    const alice = await registered("quota");
    const size = DEFAULT_LIMITS.maxBlobBytes;
    const fit = Math.floor(DEFAULT_LIMITS.blobQuotaBytes / size);
    const uploads: UploadStatus[] = [];
    for (let i = 0; i < fit; i++) uploads.push(await create(alice, size));
    const refused = await call(alice, "POST", "/blobs/uploads", { size });
    expect(refused.status).toBe(413);
    expect(await errorOf(refused)).toBe("over_quota");
    const usage = await call(alice, "GET", "/blobs");
    expect(await usage.json()).toEqual({ used: fit * size, quota: DEFAULT_LIMITS.blobQuotaBytes, maxBlobBytes: DEFAULT_LIMITS.maxBlobBytes });
    expect((await call(alice, "DELETE", `/blobs/uploads/${uploads[0]!.upload}`)).status).toBe(204);
    expect(await errorOf(await call(alice, "DELETE", `/blobs/uploads/${uploads[0]!.upload}`))).toBe("not_found");
    await create(alice, size);
  });

  it("keeps to the limits a deployment configures, publishes them, and refuses to serve on a malformed one", async () => {
    const configured = { ...env, EMSG_MAX_BLOB_BYTES: "3000000", EMSG_BLOB_QUOTA_BYTES: "5000000" };
    const on = async (vars: typeof env, request: Request) => {
      const ctx = createExecutionContext();
      // An incoming request as the runtime hands it over (the cf properties are not looked at).
      const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], vars, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const doc = (await (await on(configured, new Request(`https://${DOMAIN}/.well-known/emsg`))).json()) as { limits: Record<string, number> };
    expect(doc.limits).toMatchObject({ maxBlobBytes: 3_000_000, blobQuotaBytes: 5_000_000, maxBodyBytes: DEFAULT_LIMITS.maxBodyBytes });
    const alice = await registered("limits");
    const tooLarge = await on(configured, signedRequest(alice, "POST", "/blobs/uploads", { size: 3_000_001 }));
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: "too_large", message: expect.stringContaining("3000000") });
    expect((await on(configured, signedRequest(alice, "POST", "/blobs/uploads", { size: 3_000_000 }))).status).toBe(201);
    const overQuota = await on(configured, signedRequest(alice, "POST", "/blobs/uploads", { size: 2_000_001 }));
    expect(overQuota.status).toBe(413);
    expect(await errorOf(overQuota)).toBe("over_quota");
    expect(await (await on(configured, signedRequest(alice, "GET", "/blobs"))).json()).toEqual({ used: 3_000_000, quota: 5_000_000, maxBlobBytes: 3_000_000 });
    // Under the default limits the same account may go on: the limits are the deployment's, not stored.
    expect((await call(alice, "POST", "/blobs/uploads", { size: 2_000_001 })).status).toBe(201);

    for (const bad of [{ EMSG_MAX_BLOB_BYTES: "104883201" }, { EMSG_MAX_BLOB_BYTES: "5 MiB" }, { EMSG_BLOB_QUOTA_BYTES: "0" }, { EMSG_MAX_BLOB_BYTES: "3000000", EMSG_BLOB_QUOTA_BYTES: "2000000" }]) {
      const res = await on({ ...env, ...bad }, new Request(`https://${DOMAIN}/.well-known/emsg`));
      expect(res.status, JSON.stringify(bad)).toBe(503);
      expect(await res.json()).toMatchObject({ error: "unavailable", message: expect.stringMatching(/EMSG_(MAX_BLOB|BLOB_QUOTA)_BYTES/) });
    }
  });

  it("deletes a blob when its time is up, and every blob when the account ends", async () => {
    const alice = await registered("expiry");
    const soon = await uploadWhole(alice, new Uint8Array(50).fill(1), Date.now() + 1500);
    const later = await uploadWhole(alice, new Uint8Array(60).fill(2));
    expect((await fetchBlob(soon.blob)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    expect(await errorOf(await fetchBlob(soon.blob))).toBe("not_found");
    await runDurableObjectAlarm(env.BLOB.get(env.BLOB.idFromName(alice.address)));
    expect(await env.BLOBS.head(blobKey(soon.blob))).toBeNull();
    expect(await (await call(alice, "GET", "/blobs")).json()).toMatchObject({ used: 60 });

    // An upload still open goes too.
    await create(alice, 10);
    expect((await call(alice, "DELETE", "/account", deletionBody(alice))).status).toBe(204);
    expect(await errorOf(await fetchBlob(later.blob))).toBe("not_found");
    expect(await env.BLOBS.head(blobKey(later.blob))).toBeNull();
  });
});
