import { Hono } from "hono";
import { cors } from "hono/cors";
import { EmsgError } from "../shared/errors.js";
import { WELL_KNOWN_PATH, parseResolverMap } from "../shared/discovery.js";
import { RateLimited } from "./auth.js";
import { errorResponse, json } from "./http.js";
import { ownDiscovery } from "./key-copies.js";
import { callCounts, counting } from "./call-counts.js";
import type { AppEnv } from "./routes/context.js";
import { accountRoutes } from "./routes/account-routes.js";
import { friendsRoutes } from "./routes/friends-routes.js";
import { conversationRoutes } from "./routes/conversation-routes.js";
import { mailboxRoutes } from "./routes/mailbox-routes.js";
import { federationRoutes } from "./routes/federation-routes.js";
import { linkRoutes } from "./routes/link-routes.js";
import { blobRoutes } from "./routes/blob-routes.js";
import { DOWNLOADS_PATH, serveDownload } from "./downloads.js";
import { blobLimits } from "./blob-limits.js";

export { AccountObject } from "./account.js";
export { BlobObject } from "./blobs.js";
export { ConversationObject } from "./conversation.js";
export { GateObject } from "./gate.js";
export { OutboxObject } from "./outbox.js";
export { ServerObject } from "./server.js";

/**
 * The stateless front of an EMSG server: it authenticates, validates and routes; each Durable
 * Object is the single writer of one thing (an account, a conversation, a remote domain's
 * queue, the server's own keys and replay state).
 */
const app = new Hono<AppEnv>();

app.onError((err, c) => {
  if (err instanceof RateLimited) return errorResponse(err, { "retry-after": String(err.retryAfter) });
  if (err instanceof EmsgError) return errorResponse(err);
  console.error("emsg: unexpected error", c.req.method, new URL(c.req.url).pathname, err);
  return errorResponse(new EmsgError("internal"));
});

// Requests carry signatures, never cookies, so any origin may call (the extension, a PWA elsewhere).
const crossOrigin = cors({
  origin: "*",
  allowMethods: ["GET", "POST", "PUT", "DELETE"],
  allowHeaders: ["content-type", "content-digest", "signature", "signature-input", "emsg-to", "range"],
  exposeHeaders: ["retry-after", "content-length", "content-range"],
  maxAge: 86400,
});
app.use("/emsg/*", crossOrigin);
app.use(WELL_KNOWN_PATH, crossOrigin);

app.get(WELL_KNOWN_PATH, async (c) => {
  const res = json(await ownDiscovery(c.env));
  res.headers.set("cache-control", "public, max-age=300");
  return res;
});

// Benchmark servers only (EMSG_COUNT_CALLS=1): the calls per object kind so far; `?reset=1` starts again.
app.get("/emsg/v1/_calls", (c) => {
  if (!counting(c.env)) return errorResponse(new EmsgError("not_found", "No such path: GET /emsg/v1/_calls."));
  return json({ calls: callCounts(c.req.query("reset") === "1") });
});

for (const routes of [accountRoutes, linkRoutes, friendsRoutes, conversationRoutes, mailboxRoutes, federationRoutes, blobRoutes]) app.route("/emsg/v1", routes);

app.notFound((c) => {
  const path = new URL(c.req.url).pathname;
  if (path.startsWith(DOWNLOADS_PATH)) return serveDownload(c.req.raw, c.env.ASSETS);
  if (!path.startsWith("/emsg/") && !path.startsWith("/.well-known/") && c.env.ASSETS) return c.env.ASSETS.fetch(c.req.raw);
  return errorResponse(new EmsgError("not_found", `No such path: ${c.req.method} ${path}.`));
});

let resolverChecked: string | undefined;

/**
 * A malformed EMSG_RESOLVE is the operator's fault, not any request's (PROTOCOL §3): the server
 * answers `unavailable` until it is fixed, instead of `bad_request` on each call that needs a peer.
 */
function resolverFault(text: string | undefined): EmsgError | undefined {
  if (text === undefined || text === resolverChecked) return undefined;
  try {
    parseResolverMap(text);
  } catch (e) {
    return new EmsgError("unavailable", (e as Error).message);
  }
  resolverChecked = text;
  return undefined;
}

export default {
  fetch(request, env, ctx) {
    if (!env.EMSG_DOMAIN) return errorResponse(new EmsgError("unavailable", "EMSG_DOMAIN is not configured."));
    const fault = resolverFault(env.EMSG_RESOLVE);
    if (fault) return errorResponse(fault);
    try {
      blobLimits(env);
    } catch (e) {
      return errorResponse(e as EmsgError);
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<AppEnv["Bindings"]>;
