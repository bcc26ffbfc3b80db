import { domainOf, type Address, type Domain } from "../shared/address.js";
import { fromB64u } from "../shared/base64url.js";
import { EmsgError } from "../shared/errors.js";
import type { DeviceCertBody } from "../shared/identity.js";
import {
  CLIENT_COMPONENTS,
  FEDERATION_COMPONENTS,
  badSignature,
  checkMessage,
  parseKeyId,
  parseSignature,
  type HttpMessage,
  type ParsedSignature,
  type VerifyOptions,
} from "../shared/http-signature.js";
import { sha256Native, verifyEd25519 } from "./native-crypto.js";
import { serverKey, type DiscoveryDoc } from "../shared/discovery.js";
import type { Env } from "./env.js";
import { unwrap } from "./outcome.js";
import { accountOf, gateOf, serverOf } from "./routing.js";
import { registeredOf } from "./registry.js";
import type { FedResult } from "../shared/wire/index.js";
import type { GateAdmit, Limit } from "./gate.js";

/** Request authentication (PROTOCOL §5, §7): RFC 9421 signatures, window, nonce, rate limits. */

export class RateLimited extends EmsgError {
  constructor(readonly retryAfter: number) {
    super("rate_limited", `Too many requests; retry in ${retryAfter} s.`);
  }
}

export interface DeviceAuth {
  address: Address;
  deviceId: string;
  accountKey: string;
}

export function messageOf(request: Request, body: Uint8Array): HttpMessage {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return { method: request.method, url: request.url, headers, body };
}

export function clientIp(request: Request): string {
  return request.headers.get("cf-connecting-ip") ?? "local";
}

/** The gate of a limit's bucket: one object per scope and subject. */
export function limitGate(limit: Limit): string {
  return `${limit.scope}:${limit.subject}`;
}

/**
 * The gate of a key's nonces: a device key's are its account's (the gate of its account bucket), a
 * server key's its domain's (the gate of its peer bucket), any other key has one of its own.
 */
function nonceGate(keyId: string): string {
  const signer = /^(device|server):([^/]+)\//.exec(keyId);
  if (!signer) return `key:${keyId}`;
  return signer[1] === "device" ? `account:${signer[2]}` : `peer:${signer[2]}`;
}

/**
 * Takes tokens, then records the nonce, when given; throws when a bucket is empty or the nonce was
 * seen. State is kept per subject (PROTOCOL §5): no one object sees every request of the server.
 * A signer's nonce usually lives in the gate of its own bucket, and both take one call; `seen`
 * asks that gate for a peer's earlier federation results in the same call.
 */
export async function admit(
  env: Env,
  limits: Limit[],
  parsed?: Pick<ParsedSignature, "keyId" | "nonce">,
  seen?: { from: Domain; ids: string[] },
): Promise<Record<string, FedResult>> {
  const gates = new Map<string, GateAdmit>();
  for (const limit of limits) {
    const name = limitGate(limit);
    const gate = gates.get(name) ?? { keyId: "", nonce: "", limits: [] };
    gate.limits.push(limit);
    gates.set(name, gate);
  }
  const keyGate = parsed?.keyId ? nonceGate(parsed.keyId) : undefined;
  const withNonce = (gate: GateAdmit): GateAdmit => ({ ...gate, keyId: parsed!.keyId, nonce: parsed!.nonce });
  // The nonce is recorded only once every bucket gave its token: a refused request may be sent again as it is.
  const buckets = [...gates].filter(([name]) => name !== keyGate);
  const waits = await Promise.all(buckets.map(async ([name, gate]) => unwrap(await gateOf(env, name).admit(gate)).wait));
  const wait = Math.max(...waits.map((w) => w ?? 0));
  if (waits.some((w) => w !== null)) throw new RateLimited(wait);
  if (keyGate === undefined) return {};
  const own = gates.get(keyGate);
  const last = unwrap(await gateOf(env, keyGate).admit(withNonce(own ?? { keyId: "", nonce: "", limits: [] }), seen));
  if (last.wait !== null) throw new RateLimited(last.wait);
  return last.seen;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** verifyMessage's checks, with the body's digest and the Ed25519 signature computed by WebCrypto (native) instead of noble. */
async function verifySigned(msg: HttpMessage, parsed: ParsedSignature, publicKey: Uint8Array, opts: VerifyOptions): Promise<void> {
  const bodyHash = msg.body && msg.body.length > 0 ? await sha256Native(msg.body) : undefined;
  const base = checkMessage(msg, parsed, { ...opts, ...(bodyHash ? { bodyHash } : {}) });
  if (!(await verifyEd25519(publicKey, parsed.signature, base))) badSignature();
}

/**
 * Before an open or signed request touches the Account object it names: a token of the client's
 * IP (and any other `limits`), then the registry, so made-up names create no storage (PROTOCOL §13).
 * Throws `missing` when `address` is no account here.
 */
export async function admitNamed(env: Env, request: Request, address: Address, missing: EmsgError, limits: Limit[] = []): Promise<void> {
  await admit(env, [{ scope: "ip", subject: clientIp(request) }, ...limits]);
  if (!(await registeredOf(env, [address])).has(address)) throw missing;
}

/** A request signed by a device of a local account: rate-limited by IP before the account is looked up. */
export async function authenticateDevice(env: Env, request: Request, body: Uint8Array): Promise<DeviceAuth> {
  const msg = messageOf(request, body);
  const parsed = parseSignature(msg);
  const key = parseKeyId(parsed.keyId);
  if (key.kind !== "device") throw new EmsgError("unauthorized", "Client requests are signed with a device key.");
  if (domainOf(key.address) !== env.EMSG_DOMAIN) throw new EmsgError("unauthorized", `${key.address} is not an account of ${env.EMSG_DOMAIN}.`);
  await admitNamed(env, request, key.address, new EmsgError("unauthorized", "That account is not registered here."));
  return verifiedDevice(env, msg, parsed, key.address, key.deviceId);
}

/** The rest of authenticateDevice, once the IP's token is taken and the account is known to exist. */
async function verifiedDevice(env: Env, msg: HttpMessage, parsed: ParsedSignature, address: Address, deviceId: string): Promise<DeviceAuth> {
  const creds = await accountOf(env, address).credentials(deviceId);
  if (!creds) throw new EmsgError("unauthorized", "That device is not registered here.");
  await verifySigned(msg, parsed, fromB64u(creds.deviceKey), {
    now: nowSeconds(),
    requiredComponents: CLIENT_COMPONENTS,
    expectHeaders: { "emsg-to": env.EMSG_DOMAIN },
  });
  await admit(env, [{ scope: "account", subject: address }], parsed);
  // Said only to the removed device itself (its signature verified), so it can stop and say so rather than retry.
  if (creds.removed) throw new EmsgError("device_removed", "This device was removed from the account.");
  return { address, deviceId, accountKey: creds.accountKey };
}

/** Registration: signed by the new device's key, which its certificate (in the body) vouches for. */
export async function authenticateRegistration(env: Env, request: Request, body: Uint8Array, cert: DeviceCertBody): Promise<void> {
  const msg = messageOf(request, body);
  const parsed = parseSignature(msg);
  const key = parseKeyId(parsed.keyId);
  if (key.kind !== "device" || key.address !== cert.address || key.deviceId !== cert.deviceId) {
    throw new EmsgError("unauthorized", "Registration is signed by the device its certificate names.");
  }
  await verifySigned(msg, parsed, fromB64u(cert.deviceKey), {
    now: nowSeconds(),
    requiredComponents: CLIENT_COMPONENTS,
    expectHeaders: { "emsg-to": env.EMSG_DOMAIN },
  });
  await admit(env, [{ scope: "ip", subject: clientIp(request) }], parsed);
}

/** How far a self-added device's certificate `created` may be from the server's clock. */
export const SELF_ADD_WINDOW_MS = 300_000;

/**
 * `POST /account/devices` (PROTOCOL §6): signed by a device of the account as usual, or by the new
 * device itself, whose certificate in the body must verify under the account key the server holds
 * and be fresh, so a captured request cannot add the device again later.
 */
export async function authenticateDeviceAdd(env: Env, request: Request, body: Uint8Array, cert: DeviceCertBody): Promise<DeviceAuth> {
  const msg = messageOf(request, body);
  const parsed = parseSignature(msg);
  const key = parseKeyId(parsed.keyId);
  if (key.kind !== "device") throw new EmsgError("unauthorized", "Client requests are signed with a device key.");
  if (domainOf(key.address) !== env.EMSG_DOMAIN) throw new EmsgError("unauthorized", `${key.address} is not an account of ${env.EMSG_DOMAIN}.`);
  await admitNamed(env, request, key.address, new EmsgError("unauthorized", "That account is not registered here."));
  const account = accountOf(env, key.address);
  // A removed device adding itself again goes the self-add way, to the tombstone's `forbidden`.
  if ((await account.credentials(key.deviceId))?.removed === false) return verifiedDevice(env, msg, parsed, key.address, key.deviceId);
  if (key.deviceId !== cert.deviceId || key.address !== cert.address) {
    throw new EmsgError("unauthorized", "A device adding itself signs with the key its certificate names.");
  }
  const accountKey = await account.accountKey();
  if (!accountKey) throw new EmsgError("unauthorized", "That account is not registered here.");
  if (cert.accountKey !== accountKey) throw new EmsgError("unauthorized", "The device certificate is not signed by this account's key.");
  if (Math.abs(Date.now() - cert.created) > SELF_ADD_WINDOW_MS) throw new EmsgError("unauthorized", "The device certificate is not fresh.");
  await verifySigned(msg, parsed, fromB64u(cert.deviceKey), {
    now: nowSeconds(),
    requiredComponents: CLIENT_COMPONENTS,
    expectHeaders: { "emsg-to": env.EMSG_DOMAIN },
  });
  await admit(env, [{ scope: "account", subject: key.address }], parsed);
  return { address: key.address, deviceId: key.deviceId, accountKey };
}

/**
 * Peers' documents this isolate fetched from the Server object lately, by domain. A peer's batches
 * then cost no call to that one object, which every request of the server goes through, to find
 * its key; a kid the copy does not know, or an old copy, asks the Server object again.
 */
const peerDocs = new Map<Domain, { doc: DiscoveryDoc; at: number }>();
const PEER_DOC_REUSE_MS = 60_000;

/**
 * The key a peer signed with. Anyone can name any domain in EMSG-From, and the Server object may
 * then fetch it: unless this isolate's copy answers, a `discovery` token of the client's IP is
 * taken first. Per domain, refetches are bounded by the Server object's pauses (§7).
 */
async function peerKey(env: Env, domain: Domain, kid: string, request: Request): Promise<Uint8Array | undefined> {
  const copy = peerDocs.get(domain);
  const known = copy && Date.now() - copy.at < PEER_DOC_REUSE_MS ? serverKey(copy.doc, kid) : undefined;
  if (known) return known;
  await admit(env, [{ scope: "discovery", subject: clientIp(request) }]);
  const doc = unwrap(await serverOf(env).peerDoc(domain, kid)) as DiscoveryDoc;
  peerDocs.set(domain, { doc, at: Date.now() });
  return serverKey(doc, kid);
}

/** A request signed by a peer server's key; returns the peer's domain. */
export async function authenticatePeer(env: Env, request: Request, body: Uint8Array): Promise<Domain> {
  return (await authenticatePeerBatch(env, request, body, () => [])).from;
}

/**
 * A batch on a stream `from` opened with a signed request (PROTOCOL §7): a token of the peer's
 * bucket, and the results already given for its item ids, in one call to the peer's gate.
 */
export async function admitStreamBatch(env: Env, from: Domain, ids: string[]): Promise<Record<string, FedResult>> {
  const peer: Limit = { scope: "peer", subject: from };
  const admitted = unwrap(await gateOf(env, limitGate(peer)).admit({ keyId: "", nonce: "", limits: [peer] }, ids.length > 0 ? { from, ids } : undefined));
  if (admitted.wait !== null) throw new RateLimited(admitted.wait);
  return admitted.seen;
}

/**
 * A federation batch signed by a peer server's key: the peer's domain, and the results already
 * given for the items whose ids `idsOf` reads from the verified body (dedupe, §7), asked of the
 * peer's gate in the call that takes its token and records its nonce.
 */
export async function authenticatePeerBatch(env: Env, request: Request, body: Uint8Array, idsOf: (from: Domain) => string[]): Promise<{ from: Domain; seen: Record<string, FedResult> }> {
  const msg = messageOf(request, body);
  const parsed = parseSignature(msg);
  const key = parseKeyId(parsed.keyId);
  if (key.kind !== "server") throw new EmsgError("unauthorized", "Federation requests are signed with a server key.");
  if (key.domain === env.EMSG_DOMAIN) throw new EmsgError("unauthorized", "A server does not federate with itself.");
  const publicKey = await peerKey(env, key.domain, key.kid, request);
  if (!publicKey) throw new EmsgError("unauthorized", `${key.domain} publishes no key ${key.kid}.`);
  await verifySigned(msg, parsed, publicKey, {
    now: nowSeconds(),
    requiredComponents: FEDERATION_COMPONENTS,
    expectHeaders: { "emsg-to": env.EMSG_DOMAIN, "emsg-from": key.domain },
  });
  const ids = idsOf(key.domain);
  const seen = await admit(env, [{ scope: "peer", subject: key.domain }], parsed, ids.length > 0 ? { from: key.domain, ids } : undefined);
  return { from: key.domain, seen };
}
