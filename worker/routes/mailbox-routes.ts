import { Hono } from "hono";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { asAddress, type Address } from "../../shared/address.js";
import { EmsgError } from "../../shared/errors.js";
import { AckRequestSchema } from "../../shared/wire/index.js";
import { admitNamed } from "../auth.js";
import { json, noContent } from "../http.js";
import { unwrap } from "../outcome.js";
import { accountOf } from "../routing.js";
import { PAGE_LIMIT } from "../mailbox.js";
import { signedBody, signedOnly, type AppEnv } from "./context.js";

/** The mailbox (PROTOCOL §6): polling, acknowledgement, and the WebSocket behind a ticket. */
export const mailboxRoutes = new Hono<AppEnv>();

/** A query integer from `min` to `max`; anything else is refused, not clamped (PROTOCOL §6). */
function count(text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,15}$/.test(text) || Number(text) < min || Number(text) > max) throw new EmsgError("bad_request", `after is a non-negative integer, limit one from 1 to ${PAGE_LIMIT}.`);
  return Number(text);
}

mailboxRoutes.get("/mailbox", async (c) => {
  const auth = await signedOnly(c);
  const after = count(c.req.query("after"), 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = count(c.req.query("limit"), 100, 1, PAGE_LIMIT);
  return json(unwrap(await accountOf(c.env, auth.address).mailboxPage(after, limit)));
});

mailboxRoutes.post("/mailbox/ack", async (c) => {
  const { auth, body } = await signedBody(c, AckRequestSchema);
  unwrap(await accountOf(c.env, auth.address).ack(auth.deviceId, body.upTo));
  return noContent();
});

/** A ticket names its account (so the Worker can route the upgrade) and a single-use secret. */
mailboxRoutes.post("/ws-ticket", async (c) => {
  const auth = await signedOnly(c);
  const { secret, expires } = unwrap(await accountOf(c.env, auth.address).issueWsTicket(auth.deviceId, Date.now()));
  return json({ ticket: `${toB64u(new TextEncoder().encode(auth.address))}.${secret}`, expires });
});

function ticketParts(ticket: string): { address: Address; secret: string } {
  const dot = ticket.indexOf(".");
  try {
    return { address: asAddress(new TextDecoder().decode(fromB64u(ticket.slice(0, dot)))), secret: ticket.slice(dot + 1) };
  } catch {
    throw new EmsgError("unauthorized", "The WebSocket ticket is malformed.");
  }
}

mailboxRoutes.get("/ws", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new EmsgError("bad_request", "This path takes a WebSocket upgrade.");
  const { address, secret } = ticketParts(c.req.query("ticket") ?? "");
  await admitNamed(c.env, c.req.raw, address, new EmsgError("unauthorized", "The WebSocket ticket is unknown, used or expired."));
  const url = new URL(c.req.url);
  url.search = `?secret=${encodeURIComponent(secret)}`;
  return accountOf(c.env, address).fetch(new Request(url, c.req.raw));
});
