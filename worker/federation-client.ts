import type { Domain } from "../shared/address.js";
import { EmsgError } from "../shared/errors.js";
import { randomId16 } from "../shared/ids.js";
import { apiBaseOf, originFor, parseResolverMap, type DiscoveryDoc } from "../shared/discovery.js";
import { FEDERATION_COMPONENTS, serverKeyId, signingInput } from "../shared/http-signature.js";
import { sha256Native, signEd25519 } from "./native-crypto.js";
import type { Env } from "./env.js";
import type { SigningKey } from "./server.js";
import { ownKey, peerDocument } from "./key-copies.js";

/**
 * One signed server-to-server POST (PROTOCOL §7) to `path` under the peer's API base.
 * Throws `peer_unreachable` when the peer cannot be reached at all.
 */
export async function federationPost(env: Env, domain: Domain, path: string, payload: unknown): Promise<Response> {
  return signedPost(env, await peerDocument(env, domain), await ownKey(env), path, payload);
}

/**
 * The same POST with the peer's document and our key already at hand (the Outbox keeps them);
 * `payload` may be JSON text or its UTF-8 bytes already. `signal` abandons a peer that does not answer.
 */
export async function signedPost(env: Env, doc: DiscoveryDoc, key: SigningKey, path: string, payload: unknown, signal?: AbortSignal): Promise<Response> {
  const body = payload instanceof Uint8Array ? payload : new TextEncoder().encode(typeof payload === "string" ? payload : JSON.stringify(payload));
  const { url, headers } = await signedFor(env, doc, key, "POST", `/federation${path}`, body);
  headers["content-type"] = "application/json";
  try {
    return await fetch(url, { method: "POST", headers, body, redirect: "manual", ...(signal ? { signal } : {}) });
  } catch {
    throw new EmsgError("peer_unreachable", `${doc.domain} cannot be reached.`);
  }
}

/**
 * The URL of `path` under the peer's API base and the headers that sign a request to it
 * (PROTOCOL §7): EMSG-From, EMSG-To and the signature, over the body's digest when it has one.
 */
export async function signedFor(env: Env, doc: DiscoveryDoc, key: SigningKey, method: "GET" | "POST", path: string, body?: Uint8Array): Promise<{ url: string; headers: Record<string, string> }> {
  const domain = doc.domain as Domain;
  const url = `${apiBaseOf(doc, originFor(domain, parseResolverMap(env.EMSG_RESOLVE)))}${path}`;
  const headers: Record<string, string> = { "emsg-from": env.EMSG_DOMAIN, "emsg-to": domain };
  const input = signingInput(
    { method, url, headers, ...(body ? { body } : {}) },
    {
      keyId: serverKeyId(env.EMSG_DOMAIN as Domain, key.kid),
      created: Math.floor(Date.now() / 1000),
      nonce: randomId16(),
      components: FEDERATION_COMPONENTS,
      ...(body ? { bodyHash: await sha256Native(body) } : {}),
    },
  );
  return { url, headers: { ...headers, ...input.headers(await signEd25519(key.privateKey, key.publicKey, input.base)) } };
}
