import { Hono } from "hono";
import { DEFAULT_LIMITS } from "../../shared/discovery.js";
import { ClaimRequestSchema, FederationInboxRequestSchema, STREAM_PATH } from "../../shared/wire/index.js";
import { EmsgError } from "../../shared/errors.js";
import { authenticatePeer, authenticatePeerBatch } from "../auth.js";
import { json, parseJson, readBody } from "../http.js";
import { unwrap } from "../outcome.js";
import { accountOf, isLocal } from "../routing.js";
import { itemId, receiveBatch } from "../federation-inbox.js";
import { acceptStream } from "../federation-stream.js";
import { holdBatch, tooManyBatchBytes } from "../batch-hold.js";
import { mustBeRegistered } from "../registry.js";
import type { AppEnv } from "./context.js";

/** Server-to-server API (PROTOCOL §7). */
export const federationRoutes = new Hono<AppEnv>();

federationRoutes.post("/federation/inbox", async (c) => {
  const bytes = await readBody(c.req.raw, DEFAULT_LIMITS.maxFederationBodyBytes);
  let items: unknown[] = [];
  let release = () => {};
  try {
    // Held once the signature names the peer, before the body is parsed, as a stream's batch is.
    const { from, seen } = await authenticatePeerBatch(c.env, c.req.raw, bytes, (from) => {
      const held = holdBatch(from, bytes.byteLength);
      if (!held) throw tooManyBatchBytes();
      release = held;
      return (items = parseJson(bytes, FederationInboxRequestSchema).items).map(itemId);
    });
    return json({ results: await receiveBatch(c.env, from, items, seen) });
  } finally {
    release();
  }
});

federationRoutes.get(STREAM_PATH, async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new EmsgError("bad_request", "A federation stream is opened as a WebSocket.");
  return acceptStream(c.env, await authenticatePeer(c.env, c.req.raw, new Uint8Array()));
});

federationRoutes.post("/federation/claim", async (c) => {
  const bytes = await readBody(c.req.raw, DEFAULT_LIMITS.maxBodyBytes);
  await authenticatePeer(c.env, c.req.raw, bytes);
  const { address } = parseJson(bytes, ClaimRequestSchema);
  if (!isLocal(c.env, address)) throw new EmsgError("not_found", `${address} is not an account here.`);
  await mustBeRegistered(c.env, address);
  return json(unwrap(await accountOf(c.env, address).claim()));
});

/** An account's current devices, unconsumed (§6, Revocation): any peer may ask, as for a claim. */
federationRoutes.post("/federation/devices", async (c) => {
  const bytes = await readBody(c.req.raw, DEFAULT_LIMITS.maxBodyBytes);
  await authenticatePeer(c.env, c.req.raw, bytes);
  const { address } = parseJson(bytes, ClaimRequestSchema);
  if (!isLocal(c.env, address)) throw new EmsgError("not_found", `${address} is not an account here.`);
  await mustBeRegistered(c.env, address);
  return json(unwrap(await accountOf(c.env, address).deviceList()));
});
