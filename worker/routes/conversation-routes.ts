import { Hono } from "hono";
import { EmsgError } from "../../shared/errors.js";
import {
  conversationRef,
  CreateConversationRequestSchema,
  parseConversationRef,
  SessionTicketRequestSchema,
  SubmitSchema,
  RejoinSchema,
  VetoSchema,
  type FedItem,
  type ParsedConversationRef,
} from "../../shared/wire/index.js";
import { admit, clientIp } from "../auth.js";
import { checkFraming } from "../policy/framing.js";
import { admitSessionTicket, issueSessionTicket } from "../session-ticket.js";
import { type Address, domainOf, type Domain } from "../../shared/address.js";
import { signAuthorProof } from "../author-proof.js";
import { apiBaseOf, originFor, parseResolverMap } from "../../shared/discovery.js";
import { json } from "../http.js";
import { type Outcome, unwrap } from "../outcome.js";
import { accountOf, conversationOf, enqueueRemote } from "../routing.js";
import { ownDiscovery, peerDocument } from "../key-copies.js";
import { signedBody, signedOnly, type AppContext, type AppEnv } from "./context.js";

/** Conversations (PROTOCOL §6, §8, §12): this server is the hub of the ones created here. */
export const conversationRoutes = new Hono<AppEnv>();

function refOf(c: AppContext): ParsedConversationRef {
  return parseConversationRef(`${c.req.param("hub")}/${c.req.param("id")}`);
}

conversationRoutes.post("/conversations", async (c) => {
  const { auth, body } = await signedBody(c, CreateConversationRequestSchema);
  const ref = conversationRef(c.env.EMSG_DOMAIN as Domain, body.id);
  unwrap(await conversationOf(c.env, ref).create(ref, auth.address, body.members, Date.now()));
  await accountOf(c.env, auth.address).join(ref);
  return json({ conversation: ref }, 201);
});

conversationRoutes.get("/conversations/:hub/:id", async (c) => {
  const ref = refOf(c);
  const auth = await signedOnly(c);
  if (ref.hub !== c.env.EMSG_DOMAIN) throw new EmsgError("not_found", `Ask the hub, ${ref.hub}.`);
  return json(unwrap(await conversationOf(c.env, ref.ref).view(auth.address)));
});

/** A submission goes to the hub: straight in when that is this server, else through the hub's Outbox. */
conversationRoutes.post("/conversations/:hub/:id/messages", async (c) => {
  const ref = refOf(c);
  const { auth, body } = await signedBody(c, SubmitSchema);
  // Checked here, whoever the hub is: the sender learns at once, and the hub's queue is spared the parsing.
  const submit = checkFraming(ref.ref, body);
  await accountOf(c.env, auth.address).join(ref.ref);
  if (ref.hub === c.env.EMSG_DOMAIN) {
    const { seq } = unwrap(await conversationOf(c.env, ref.ref).submit(auth.address, auth.deviceId, submit, Date.now()));
    return json({ accepted: true, seq }, 202);
  }
  await enqueueRemote(c.env, ref.hub, [
    {
      item: {
        id: body.id,
        kind: "conv_submit",
        conversation: ref.ref,
        from: auth.address,
        deviceId: auth.deviceId,
        submit: body,
        authorProof: await signAuthorProof(c.env, ref.ref, auth.address, auth.deviceId, body),
      },
      bounceTo: auth.address,
      ref: body.id,
      to: auth.address,
      conversation: ref.ref,
    },
  ]);
  return json({ accepted: true }, 202);
});

/**
 * A member device's word to the hub that is no Submit, its veto or its ask to rejoin: straight in
 * when the hub is here, else as `item` through the hub's Outbox after this account's earlier
 * submissions to the conversation; a refusal by a remote hub comes back as a `bounce`.
 */
async function toHub(c: AppContext, ref: ParsedConversationRef, id: string, from: Address, here: () => Promise<Outcome<{ seq: number }>>, item: FedItem): Promise<Response> {
  if (ref.hub === c.env.EMSG_DOMAIN) return json({ accepted: true, seq: unwrap(await here()).seq }, 202);
  await enqueueRemote(c.env, ref.hub, [{ item, bounceTo: from, ref: id, to: from, conversation: ref.ref }]);
  return json({ accepted: true }, 202);
}

/** A member device's veto of the hub's latest commit (PROTOCOL §8, Vetoes). */
conversationRoutes.post("/conversations/:hub/:id/veto", async (c) => {
  const ref = refOf(c);
  const { auth, body } = await signedBody(c, VetoSchema);
  return toHub(c, ref, body.id, auth.address, () => conversationOf(c.env, ref.ref).veto(auth.address, auth.deviceId, body, Date.now()), {
    id: body.id, kind: "conv_veto", conversation: ref.ref, from: auth.address, deviceId: auth.deviceId, veto: body,
  });
});

/** A member device's ask to be let back in (PROTOCOL §8, Rejoining). */
conversationRoutes.post("/conversations/:hub/:id/rejoin", async (c) => {
  const ref = refOf(c);
  const { auth, body } = await signedBody(c, RejoinSchema);
  return toHub(c, ref, body.id, auth.address, () => conversationOf(c.env, ref.ref).rejoin(auth.address, auth.deviceId, body, Date.now()), {
    id: body.id, kind: "conv_rejoin", conversation: ref.ref, from: auth.address, deviceId: auth.deviceId, rejoin: body,
  });
});

/** Path 2 (PROTOCOL §10): this server vouches for its member; the hub checks the ticket. */
conversationRoutes.post("/sessions/ticket", async (c) => {
  const { auth, body } = await signedBody(c, SessionTicketRequestSchema);
  const ref = parseConversationRef(body.conversation);
  const ticket = await issueSessionTicket(c.env, { address: auth.address, deviceId: auth.deviceId, conversation: ref.ref, hub: ref.hub }, Date.now());
  // Remembered so that removing the device closes this session at once when the hub is here.
  await accountOf(c.env, auth.address).noteSessionTicket(auth.deviceId, ref.ref, ticket.body.exp, Date.now());
  return json({ ticket, hub: ref.hub, api: await hubApiBase(c, ref.hub) });
});

/**
 * Where the client opens its session: the hub's API base as this server reaches it (its own
 * origin, or the peer's discovery document), so a client need not resolve the hub's domain itself.
 */
async function hubApiBase(c: AppContext, hub: Domain): Promise<string> {
  if (hub === c.env.EMSG_DOMAIN) return apiBaseOf(await ownDiscovery(c.env), new URL(c.req.url).origin);
  return apiBaseOf(await peerDocument(c.env, hub), originFor(hub, parseResolverMap(c.env.EMSG_RESOLVE)));
}

conversationRoutes.get("/conversations/:hub/:id/session", async (c) => {
  await admit(c.env, [{ scope: "ip", subject: clientIp(c.req.raw) }]);
  const ref = refOf(c);
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new EmsgError("bad_request", "This path takes a WebSocket upgrade.");
  if (ref.hub !== c.env.EMSG_DOMAIN) throw new EmsgError("not_found", `Open the session at the hub, ${ref.hub}.`);
  const hub = conversationOf(c.env, ref.ref);
  const { holder, sig } = await admitSessionTicket(c.env, c.req.query("ticket") ?? "", ref.ref, Date.now(), (address) => hub.hasMember(address));
  const url = new URL(c.req.url);
  url.search = `?address=${encodeURIComponent(holder.address)}&deviceId=${encodeURIComponent(holder.deviceId)}&exp=${holder.exp}&sig=${sig}`;
  // A member of another domain: the hub keeps its ticket as proof of who wrote what it submits (§9).
  if (domainOf(holder.address) !== c.env.EMSG_DOMAIN) url.search += `&ticket=${encodeURIComponent(c.req.query("ticket") ?? "")}`;
  return hub.fetch(new Request(url, c.req.raw));
});
