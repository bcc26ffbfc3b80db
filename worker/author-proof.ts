import { domainOf, type Address, type Domain } from "../shared/address.js";
import { fromB64u, toB64u } from "../shared/base64url.js";
import type { DiscoveryDoc } from "../shared/discovery.js";
import { signingInput, type SignContext } from "../shared/signed.js";
import type { AuthorEvidence, ConvAuthorBody, ConversationRef, ConvPayload, SignedConvAuthor, Submit } from "../shared/wire/index.js";
import type { Env } from "./env.js";
import { sha256Native, signEd25519, verifyEd25519 } from "./native-crypto.js";
import { unwrap } from "./outcome.js";
import { serverOf } from "./routing.js";
import type { SigningKey } from "./server.js";

/**
 * Who wrote a conversation item (PROTOCOL §9): a hub names the author, and a server believes it
 * only for an author on the hub's own domain, or with proof from the author's server: the
 * `conv-author` object it signs when it forwards a local user's Submit to a remote hub, or the
 * session ticket it gave the user's device for that hub.
 */

const utf8 = new TextEncoder();

async function digest(text: string): Promise<string> {
  return toB64u(await sha256Native(utf8.encode(text)));
}

/** This server's key, and peers' keys below, reused for a minute: each read costs a call to the one object all requests share. */
let ownKey: { key: SigningKey; at: number } | undefined;
const KEY_REUSE_MS = 60_000;

async function signingKey(env: Env): Promise<SigningKey> {
  if (!ownKey || Date.now() - ownKey.at > KEY_REUSE_MS) ownKey = { key: await serverOf(env).signingKey(), at: Date.now() };
  return ownKey.key;
}

/** The `conv-author` object for a local user's Submit that goes to a remote hub. */
export async function signAuthorProof(env: Env, conversation: ConversationRef, from: Address, deviceId: string, submit: Submit): Promise<SignedConvAuthor> {
  const body: ConvAuthorBody = {
    conversation,
    id: submit.id,
    from,
    deviceId,
    mls: await digest(submit.mls),
    ...(submit.welcome ? { welcome: await digest(submit.welcome) } : {}),
  };
  const key = await signingKey(env);
  return { body, sig: toB64u(await signEd25519(key.privateKey, key.publicKey, signingInput("conv-author", body))) };
}

/** Domains' keys this isolate read lately: a burst of proven items costs one call to the Server object, not one each. */
const domainKeyCopies = new Map<Domain, { keys: Uint8Array[]; at: number }>();
const MAX_KEY_COPIES = 1000;

/**
 * The keys a domain signs with: this server's own, or those of the domain's discovery document;
 * `recheck` asks the Server object even when this isolate holds a copy.
 */
async function domainKeys(env: Env, domain: Domain, recheck = false): Promise<Uint8Array[]> {
  if (domain === env.EMSG_DOMAIN) return [fromB64u((await signingKey(env)).publicKey)];
  const copy = domainKeyCopies.get(domain);
  if (!recheck && copy && Date.now() - copy.at < KEY_REUSE_MS) return copy.keys;
  const doc = unwrap(await serverOf(env).peerDoc(domain)) as DiscoveryDoc;
  const keys = doc.keys.map((k) => fromB64u(k.key));
  if (domainKeyCopies.size >= MAX_KEY_COPIES) domainKeyCopies.clear();
  domainKeyCopies.set(domain, { keys, at: Date.now() });
  return keys;
}

/** The signed object and context `evidence` offers for `payload`, if what it binds matches the item. */
async function boundObject(hub: Domain, payload: Omit<ConvPayload, "at">, evidence: AuthorEvidence): Promise<{ context: SignContext; body: unknown; sig: string } | null> {
  const proof = evidence.authorProof;
  if (proof) {
    const b = proof.body;
    if (b.conversation !== payload.conversation || b.id !== payload.id || b.from !== payload.from || b.deviceId !== payload.deviceId) return null;
    // A Welcome travels as its own item, whose `mls` is the Submit's `welcome`.
    const bound = payload.type === "welcome" ? b.welcome : b.mls;
    return bound === (await digest(payload.mls)) ? { context: "conv-author", body: b, sig: proof.sig } : null;
  }
  const ticket = evidence.authorTicket;
  if (!ticket) return null;
  const t = ticket.body;
  if (t.address !== payload.from || t.deviceId !== payload.deviceId || t.conversation !== payload.conversation || t.hub !== hub) return null;
  // Not checked against `exp`: a session outlives its first ticket, and the entry may arrive days later.
  return { context: "session-ticket", body: t, sig: ticket.sig };
}

/**
 * Whether `evidence` proves that a device of `payload.from` sent `payload` to `hub`: it binds this
 * item and verifies under a key of `from`'s domain. False, never an error, for anything else,
 * including a domain whose keys cannot be had now.
 */
export async function authorProven(env: Env, hub: Domain, payload: Omit<ConvPayload, "at">, evidence: AuthorEvidence): Promise<boolean> {
  try {
    const bound = await boundObject(hub, payload, evidence);
    if (!bound) return false;
    const message = signingInput(bound.context, bound.body);
    const sig = fromB64u(bound.sig);
    const verifies = async (keys: Uint8Array[]) => {
      for (const key of keys) if (await verifyEd25519(key, sig, message)) return true;
      return false;
    };
    const domain = domainOf(payload.from);
    const copied = domainKeyCopies.has(domain);
    if (await verifies(await domainKeys(env, domain))) return true;
    // The copy may predate a change of keys: the Server object is asked once more.
    return copied && (await verifies(await domainKeys(env, domain, true)));
  } catch {
    return false;
  }
}
