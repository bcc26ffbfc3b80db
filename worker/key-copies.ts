import type { Domain } from "../shared/address.js";
import { fromB64u } from "../shared/base64url.js";
import { buildDiscoveryDoc, serverKey, type DiscoveryDoc } from "../shared/discovery.js";
import { blobLimits } from "./blob-limits.js";
import type { Env } from "./env.js";
import { unwrap } from "./outcome.js";
import { serverOf } from "./routing.js";
import { SOFTWARE, type SigningKey } from "./server.js";

/**
 * This server's key and peers' discovery documents as this isolate last read them from the Server
 * object, reused for a minute: a session's ticket, its hub's check of it, a discovery request and
 * a call to a peer would each cost a call to that one object, which every such request of the
 * domain shares (docs/scale.md). A peer's key the copy does not know is asked for again.
 */
const REUSE_MS = 60_000;
const MAX_PEER_COPIES = 1000;

let own: { key: SigningKey; doc: DiscoveryDoc; at: number } | undefined;
const peers = new Map<Domain, { doc: DiscoveryDoc; at: number }>();

async function ownCopy(env: Env): Promise<{ key: SigningKey; doc: DiscoveryDoc }> {
  if (own && Date.now() - own.at < REUSE_MS) return own;
  const key = await serverOf(env).signingKey();
  const doc = buildDiscoveryDoc({ domain: env.EMSG_DOMAIN as Domain, keys: [{ kid: key.kid, key: fromB64u(key.publicKey) }], software: SOFTWARE });
  own = { key, doc, at: Date.now() };
  return own;
}

export async function ownKey(env: Env): Promise<SigningKey> {
  return (await ownCopy(env)).key;
}

/** This server's discovery document (PROTOCOL §3), with this deployment's attachment limits. */
export async function ownDiscovery(env: Env): Promise<DiscoveryDoc> {
  const doc = (await ownCopy(env)).doc;
  return { ...doc, limits: { ...doc.limits, ...blobLimits(env) } };
}

/**
 * A peer's discovery document: this isolate's copy unless it is old, does not know `kid`, or
 * `fresh` asks for the Server object's (whose own cache and refetch rules apply, §7).
 */
export async function peerDocument(env: Env, domain: Domain, o: { kid?: string; fresh?: boolean } = {}): Promise<DiscoveryDoc> {
  const copy = peers.get(domain);
  if (copy && !o.fresh && Date.now() - copy.at < REUSE_MS && (o.kid === undefined || serverKey(copy.doc, o.kid))) return copy.doc;
  const doc = unwrap(await serverOf(env).peerDoc(domain, o.kid)) as DiscoveryDoc;
  if (peers.size >= MAX_PEER_COPIES) peers.clear();
  peers.set(domain, { doc, at: Date.now() });
  return doc;
}

/** Whether this isolate holds a recent copy of `domain`'s document. */
export function hasPeerCopy(domain: Domain): boolean {
  const copy = peers.get(domain);
  return copy !== undefined && Date.now() - copy.at < REUSE_MS;
}
