import { domainOf, type Domain } from "../shared/address.js";
import { fromB64u, toB64u } from "../shared/base64url.js";
import { jcs } from "../shared/canonical.js";
import { EmsgError } from "../shared/errors.js";
import { signingInput, type Signed } from "../shared/signed.js";
import { verifyEd25519 } from "../shared/mls/ed25519.js";
import { SignedSessionTicketSchema, type SessionTicketBody, type SignedSessionTicket } from "../shared/wire/index.js";
import type { ConversationRef } from "../shared/wire/conversation.js";
import type { Env } from "./env.js";
import { check } from "./http.js";
import { hasPeerCopy, ownKey, peerDocument } from "./key-copies.js";
import { signEd25519 } from "./native-crypto.js";

/**
 * Session tickets (PROTOCOL §10): a member's own server vouches for it to the hub, for 5 minutes.
 * A session lives only as long as its latest ticket, so a removed device's session ends within that.
 */
export const SESSION_TICKET_MS = 5 * 60 * 1000;

export interface TicketHolder {
  address: SessionTicketBody["address"];
  deviceId: string;
  conversation: ConversationRef;
  hub: Domain;
}

/**
 * Signed through WebCrypto: a session opened costs a ticket made and checked, and noble's JS took
 * ~6% of a hub's CPU in the throughput benchmark for them. Ed25519 signatures are deterministic,
 * so the bytes are signObject's.
 */
export async function issueSessionTicket(env: Env, holder: TicketHolder, now: number): Promise<Signed<SessionTicketBody>> {
  const key = await ownKey(env);
  const body: SessionTicketBody = { ...holder, exp: now + SESSION_TICKET_MS };
  return { body, sig: toB64u(await signEd25519(key.privateKey, key.publicKey, signingInput("session-ticket", body))) };
}

/** verifyObject's answer for a ticket (strict RFC 8032), the native check first (see verifyEd25519). */
async function signedByKey(key: Uint8Array, ticket: SignedSessionTicket): Promise<boolean> {
  try {
    if (typeof ticket.sig !== "string") return false;
    return await verifyEd25519(key, signingInput("session-ticket", ticket.body), fromB64u(ticket.sig));
  } catch {
    return false;
  }
}

export function encodeSessionTicket(ticket: Signed<SessionTicketBody>): string {
  return toB64u(new TextEncoder().encode(jcs(ticket)));
}

/**
 * Checks a ticket presented at this hub for `conversation`; the issuer is the member's own server.
 * `isMember` is asked before another domain's keys are fetched: an open request must not make this
 * server fetch the documents of whatever domains it names (issue 14 item 7). A ticket of this
 * server's own needs no fetch, and the Conversation refuses a non-member as it opens the session.
 */
export async function admitSessionTicket(
  env: Env,
  text: string,
  conversation: ConversationRef,
  now: number,
  isMember: (address: SessionTicketBody["address"]) => Promise<boolean>,
): Promise<{ holder: SessionTicketBody; sig: string }> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(fromB64u(text)));
  } catch {
    throw new EmsgError("unauthorized", "The session ticket is not b64u(JCS(signed object)).");
  }
  const ticket = check(SignedSessionTicketSchema, json);
  const holder = await checkSessionTicket(env, ticket, conversation, now, isMember);
  // Its signature names the ticket however its text is spelled: the hub lets it open one session (§10).
  return { holder, sig: toB64u(fromB64u(ticket.sig)) };
}

/** Checks a ticket for `conversation` at this hub: unexpired, for this hub, signed by the member's own server; `isMember` only for another domain's (see admitSessionTicket). */
export async function checkSessionTicket(
  env: Env,
  ticket: SignedSessionTicket,
  conversation: ConversationRef,
  now: number,
  isMember?: (address: SessionTicketBody["address"]) => Promise<boolean>,
): Promise<SessionTicketBody> {
  const body = ticket.body;
  if (body.exp < now || body.exp > now + SESSION_TICKET_MS + 60_000) throw new EmsgError("unauthorized", "The session ticket has expired.");
  if (body.hub !== env.EMSG_DOMAIN || body.conversation !== conversation) throw new EmsgError("unauthorized", "The session ticket is for another conversation.");
  const issuer = domainOf(body.address);
  if (isMember && issuer !== env.EMSG_DOMAIN && !(await isMember(body.address))) throw new EmsgError("forbidden", "Only members may open a session.");
  const signedBy = async (keys: Uint8Array[]) => {
    for (const k of keys) if (await signedByKey(k, ticket)) return true;
    return false;
  };
  // This isolate's copy of a peer's keys may predate a change of keys: the Server object's is asked once more.
  const copied = issuer !== env.EMSG_DOMAIN && hasPeerCopy(issuer);
  if (!(await signedBy(await issuerKeys(env, issuer))) && !(copied && (await signedBy(await issuerKeys(env, issuer, true))))) {
    throw new EmsgError("unauthorized", `The session ticket is not signed by ${issuer}.`);
  }
  return body;
}

async function issuerKeys(env: Env, issuer: Domain, fresh = false): Promise<Uint8Array[]> {
  if (issuer === env.EMSG_DOMAIN) return [fromB64u((await ownKey(env)).publicKey)];
  return (await peerDocument(env, issuer, { fresh })).keys.map((k) => fromB64u(k.key));
}
