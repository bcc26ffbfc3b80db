import { Hono } from "hono";
import { asAddress } from "../../shared/address.js";
import { EmsgError } from "../../shared/errors.js";
import { isB64uOfLength } from "../../shared/ids.js";
import { LINK_SEALED_MAX_CHARS } from "../../shared/wire/account.js";
import { LinkUploadSchema } from "../../shared/wire/index.js";
import { admitNamed } from "../auth.js";
import { json } from "../http.js";
import { unwrap } from "../outcome.js";
import { accountOf, isLocal } from "../routing.js";
import { signedBody, type AppEnv } from "./context.js";

/** Device links (PROTOCOL §6): a sealed bundle uploaded by a device, fetched once by the new one. */
export const linkRoutes = new Hono<AppEnv>();

linkRoutes.post("/account/links", async (c) => {
  const { auth, body } = await signedBody(c, LinkUploadSchema);
  if (body.sealed.length > LINK_SEALED_MAX_CHARS) throw new EmsgError("too_large", `A sealed link is at most ${LINK_SEALED_MAX_CHARS} characters.`);
  return json(unwrap(await accountOf(c.env, auth.address).putLink(body, auth.deviceId, Date.now())), 201);
});

/** Open: the new device has no key the server knows yet. The id is a 128-bit secret of the code. */
linkRoutes.get("/links/:address/:id", async (c) => {
  const address = asAddress(c.req.param("address"));
  const id = c.req.param("id");
  if (!isB64uOfLength(id, 16)) throw new EmsgError("bad_request", "A link id is 16 bytes of base64url.");
  if (!isLocal(c.env, address)) throw new EmsgError("not_found", "That account is not on this server.");
  await admitNamed(c.env, c.req.raw, address, new EmsgError("not_found", "No such link: it was used already, expired, or never made."));
  const link = unwrap(await accountOf(c.env, address).takeLink(id, Date.now()));
  return json({ address, ...link });
});
