import { Hono } from "hono";
import { EmsgError } from "../../shared/errors.js";
import { Id16Schema } from "../../shared/ids.js";
import { BLOB_PART_BYTES, CreateUploadSchema } from "../../shared/wire/blobs.js";
import { admit, authenticateDevice, clientIp } from "../auth.js";
import { blobLimits } from "../blob-limits.js";
import { blobKey } from "../blobs.js";
import type { Env } from "../env.js";
import { answerJson, check, json, MAX_PEER_ANSWER_BYTES, noContent, readBody } from "../http.js";
import { unwrap } from "../outcome.js";
import { signedBody, signedOnly, type AppContext, type AppEnv } from "./context.js";
import { parseDomain, type Domain } from "../../shared/address.js";
import { apiBaseOf, originFor, parseResolverMap } from "../../shared/discovery.js";
import { peerDocument } from "../key-copies.js";

/**
 * Attachment blobs (PROTOCOL §15.3): a device uploads its sealed blob to its own server in parts
 * (each signed; a lost part is sent again alone), and anyone holding the blob's id, which only
 * the pointer in an MLS message carries, fetches it until it expires.
 */
export const blobRoutes = new Hono<AppEnv>();

export function blobsOf(env: Env, address: string) {
  return env.BLOB.get(env.BLOB.idFromName(address));
}

const idParam = (c: AppContext, name: string) => check(Id16Schema, c.req.param(name));

blobRoutes.post("/blobs/uploads", async (c) => {
  const { auth, body } = await signedBody(c, CreateUploadSchema);
  return json(unwrap(await blobsOf(c.env, auth.address).create(body.size, body.until, Date.now(), blobLimits(c.env))), 201);
});

blobRoutes.get("/blobs/uploads/:upload", async (c) => {
  const auth = await signedOnly(c);
  return json(unwrap(await blobsOf(c.env, auth.address).status(idParam(c, "upload"))));
});

/** A part's bytes are signed like any body (Content-Digest), then go straight to R2, never through the object. */
blobRoutes.put("/blobs/uploads/:upload/parts/:n", async (c) => {
  const upload = idParam(c, "upload");
  const n = Number(c.req.param("n"));
  if (!/^[1-9]\d{0,4}$/.test(c.req.param("n"))) throw new EmsgError("bad_request", "A part number is a whole number from 1.");
  const bytes = await readBody(c.req.raw, BLOB_PART_BYTES);
  const auth = await authenticateDevice(c.env, c.req.raw, bytes);
  const blobs = blobsOf(c.env, auth.address);
  const slot = unwrap(await blobs.partSlot(upload, n, bytes.length));
  const part = await c.env.BLOBS.resumeMultipartUpload(slot.key, slot.r2).uploadPart(n, bytes);
  return json(unwrap(await blobs.partHeld(upload, n, part.etag)));
});

blobRoutes.post("/blobs/uploads/:upload/complete", async (c) => {
  const auth = await signedOnly(c);
  return json(unwrap(await blobsOf(c.env, auth.address).complete(idParam(c, "upload"))));
});

blobRoutes.delete("/blobs/uploads/:upload", async (c) => {
  const auth = await signedOnly(c);
  unwrap(await blobsOf(c.env, auth.address).cancel(idParam(c, "upload")));
  return noContent();
});

blobRoutes.get("/blobs", async (c) => {
  const auth = await signedOnly(c);
  const { used } = await blobsOf(c.env, auth.address).usage();
  const limits = blobLimits(c.env);
  return json({ used, quota: limits.blobQuotaBytes, maxBlobBytes: limits.maxBlobBytes });
});

blobRoutes.delete("/blobs/:blob", async (c) => {
  const auth = await signedOnly(c);
  unwrap(await blobsOf(c.env, auth.address).remove(idParam(c, "blob")));
  return noContent();
});

/**
 * A device fetches a blob of another domain through its own server (signed, so this is no open
 * proxy): the device needs no route to that domain, and the sender's server never learns the
 * reader's address. Range is passed on, so a download resumes the same way.
 */
blobRoutes.get("/blobs/:domain/:blob", async (c) => {
  const blob = idParam(c, "blob");
  await signedOnly(c);
  let domain: Domain;
  try {
    domain = parseDomain(c.req.param("domain"));
  } catch {
    throw new EmsgError("bad_request", "Not a domain.");
  }
  if (domain === c.env.EMSG_DOMAIN) return serveBlob(c, blob);
  const doc = await peerDocument(c.env, domain);
  const url = `${apiBaseOf(doc, originFor(domain, parseResolverMap(c.env.EMSG_RESOLVE)))}/blobs/${blob}`;
  const range = c.req.header("range");
  let res: Response;
  try {
    res = await fetch(url, { headers: range ? { range } : {} });
  } catch {
    throw new EmsgError("peer_unreachable", `${domain} cannot be reached right now.`);
  }
  if (res.status !== 200 && res.status !== 206) {
    const body = (await answerJson(res, MAX_PEER_ANSWER_BYTES)) as { error?: unknown } | null;
    // Only the answers a blob fetch has are passed on; anything else is the peer's failure.
    throw new EmsgError(body?.error === "not_found" ? "not_found" : "peer_unreachable", `${domain} did not serve the blob.`);
  }
  // No more than the range asked for, or than a blob of the peer's can be: a rogue peer's answer
  // is cut there, and its length is passed on only when it fits.
  const asked = range ? rangeLength(range) : undefined;
  const max = Math.min(asked ?? Infinity, doc.limits.maxBlobBytes);
  const headers = new Headers({ "content-type": "application/octet-stream", "cache-control": "private, no-store", "x-content-type-options": "nosniff" });
  const length = Number(res.headers.get("content-length"));
  if (Number.isSafeInteger(length) && length <= max) headers.set("content-length", String(length));
  const contentRange = res.headers.get("content-range");
  if (contentRange) headers.set("content-range", contentRange);
  return new Response(res.body && cutAfter(res.body, max), { status: res.status, headers });
});

/** The bytes a Range of one closed span (`bytes=a-b`, as clients ask) covers; undefined for any other form. */
function rangeLength(range: string): number | undefined {
  const span = /^bytes=(\d{1,15})-(\d{1,15})$/.exec(range.trim());
  if (!span) return undefined;
  const [from, to] = [Number(span[1]), Number(span[2])];
  return to >= from ? to - from + 1 : undefined;
}

/** `body` ended after `max` bytes, the rest of it cancelled. */
function cutAfter(body: ReadableStream<Uint8Array>, max: number): ReadableStream<Uint8Array> {
  let left = max;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (chunk.byteLength < left) {
          left -= chunk.byteLength;
          return controller.enqueue(chunk);
        }
        controller.enqueue(chunk.subarray(0, left));
        left = 0;
        controller.terminate();
      },
    }),
  );
}

/**
 * Open: the id is the capability. Any member's device, on any domain, fetches the sealed bytes
 * (whole, or from a byte offset with Range to resume); an unknown or expired blob is not_found.
 */
blobRoutes.get("/blobs/:blob", async (c) => {
  const blob = idParam(c, "blob");
  await admit(c.env, [{ scope: "ip", subject: clientIp(c.req.raw) }]);
  return serveBlob(c, blob);
});

async function serveBlob(c: AppContext, blob: string): Promise<Response> {
  const object = await c.env.BLOBS.get(blobKey(blob), { range: c.req.raw.headers });
  const until = Number(object?.customMetadata?.until);
  if (!object || !(until > Date.now())) throw new EmsgError("not_found", "No such blob: it expired or was never here.");
  const headers = new Headers({
    "content-type": "application/octet-stream",
    "cache-control": "private, max-age=3600",
    "x-content-type-options": "nosniff",
    "accept-ranges": "bytes",
    expires: new Date(until).toUTCString(),
  });
  const range = object.range as { offset?: number; length?: number } | undefined;
  if (range && c.req.header("range")) {
    const offset = range.offset ?? 0;
    const length = range.length ?? object.size - offset;
    headers.set("content-range", `bytes ${offset}-${offset + length - 1}/${object.size}`);
    headers.set("content-length", String(length));
    return new Response(object.body, { status: 206, headers });
  }
  headers.set("content-length", String(object.size));
  return new Response(object.body, { status: 200, headers });
}
