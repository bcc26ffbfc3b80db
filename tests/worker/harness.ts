import { SELF, env, runInDurableObject } from "cloudflare:test";
import type { Address, Domain } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { buildDiscoveryDoc } from "../../shared/discovery.js";
import { CLIENT_COMPONENTS, FEDERATION_COMPONENTS, deviceKeyId, serverKeyId, signMessage } from "../../shared/http-signature.js";
import { certifyDevice, deviceIdOf, generateKeyPair, keyIdOf, type DeviceCert, type KeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signObject } from "../../shared/signed.js";
import type { FedItem, SignedFriendRequest, SignedFriendResponse, Verdict } from "../../shared/wire/index.js";

/** A real client of the Worker under test: real keys, real signatures, requests through SELF. */

export const DOMAIN = "im.alice.test" as Domain;
export const PEER = "im.bob.test" as Domain;
export const API = `https://${DOMAIN}/emsg/v1`;

export interface Device {
  address: Address;
  account: KeyPair;
  device: KeyPair;
  deviceId: string;
  cert: DeviceCert;
}

let counter = 0;

/** A fresh, unregistered identity with a unique name on `domain`. */
export function newDevice(prefix = "user", domain: Domain = DOMAIN, account: KeyPair = generateKeyPair()): Device {
  const address = `${prefix}${++counter}x${Math.floor(Math.random() * 1e6)}#${domain}` as Address;
  const device = generateKeyPair();
  return { address, account, device, deviceId: deviceIdOf(device.publicKey), cert: certifyDevice(account, address, device.publicKey, "test", Date.now()) };
}

export function anotherDevice(d: Device): Device {
  const device = generateKeyPair();
  return { ...d, device, deviceId: deviceIdOf(device.publicKey), cert: certifyDevice(d.account, d.address, device.publicKey, "second", Date.now()) };
}

export interface SignOptions {
  created?: number;
  nonce?: string;
  emsgTo?: string;
  keyId?: string;
  signWith?: Uint8Array;
  headers?: Record<string, string>;
  rawBody?: Uint8Array;
}

/** Builds a signed API request as a client would (PROTOCOL §5). */
export function signedRequest(d: Device, method: string, path: string, body?: unknown, o: SignOptions = {}): Request {
  const url = `${API}${path}`;
  const bytes = o.rawBody ?? (body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body)));
  const headers: Record<string, string> = { "emsg-to": o.emsgTo ?? DOMAIN, ...(bytes ? { "content-type": "application/json" } : {}), ...o.headers };
  const sig = signMessage(
    { method, url, headers, ...(bytes ? { body: bytes } : {}) },
    {
      keyId: o.keyId ?? deviceKeyId(d.address, d.deviceId),
      privateKey: o.signWith ?? d.device.privateKey,
      created: o.created ?? Math.floor(Date.now() / 1000),
      nonce: o.nonce ?? randomId16(),
      components: CLIENT_COMPONENTS,
    },
  );
  return new Request(url, { method, headers: { ...headers, ...sig }, ...(bytes ? { body: bytes } : {}) });
}

export function call(d: Device, method: string, path: string, body?: unknown, o?: SignOptions): Promise<Response> {
  return SELF.fetch(signedRequest(d, method, path, body, o));
}

export async function register(d: Device): Promise<Response> {
  return call(d, "POST", "/accounts", { address: d.address, accountKey: toB64u(d.account.publicKey), deviceCert: d.cert });
}

export async function registered(prefix = "user"): Promise<Device> {
  const d = newDevice(prefix);
  const res = await register(d);
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return d;
}

export async function errorOf(res: Response): Promise<string> {
  const body = (await res.json()) as { error: string };
  return body.error;
}

export function friendRequest(from: Device, to: Address, note = "hi"): SignedFriendRequest {
  return signObject(from.account.privateKey, "friend-request", {
    from: from.address,
    to,
    accountKey: toB64u(from.account.publicKey),
    created: Date.now(),
    id: randomId16(),
    note,
  }) as SignedFriendRequest;
}

export function friendResponse(from: Device, to: Address, verdict: Verdict): SignedFriendResponse {
  return signObject(from.account.privateKey, "friend-response", {
    from: from.address,
    to,
    accountKey: toB64u(from.account.publicKey),
    created: Date.now(),
    id: randomId16(),
    verdict,
  }) as SignedFriendResponse;
}

export function enc(address: string): string {
  return encodeURIComponent(address);
}

/** Makes two registered local users friends through the API. */
export async function befriend(a: Device, b: Device): Promise<void> {
  const r1 = await call(a, "POST", "/friends/requests", { request: friendRequest(a, b.address) });
  if (r1.status !== 202) throw new Error(`request: ${r1.status} ${await r1.text()}`);
  const r2 = await call(b, "POST", `/friends/${enc(a.address)}/accept`, { response: friendResponse(b, a.address, "accept") });
  if (r2.status !== 204) throw new Error(`accept: ${r2.status} ${await r2.text()}`);
}

/** A fake peer server: its key, and its discovery document planted in our peer cache, as if fetched. */
export interface Peer {
  domain: Domain;
  key: KeyPair;
  kid: string;
}

export async function trustedPeer(domain: Domain = PEER, fetchedAgoMs = 0): Promise<Peer> {
  const key = generateKeyPair();
  const kid = keyIdOf(key.publicKey);
  const doc = buildDiscoveryDoc({ domain, keys: [{ kid, key: key.publicKey }], software: "test-peer" });
  const stub = env.SERVER.get(env.SERVER.idFromName("server"));
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("INSERT OR REPLACE INTO peers (domain, doc, fetched) VALUES (?, ?, ?)", domain, JSON.stringify(doc), Date.now() - fetchedAgoMs);
  });
  return { domain, key, kid };
}

export function federationRequest(peer: Peer, path: string, body: unknown, o: SignOptions = {}): Request {
  const url = `${API}/federation${path}`;
  const bytes = o.rawBody ?? new TextEncoder().encode(JSON.stringify(body));
  const headers: Record<string, string> = { "content-type": "application/json", "emsg-from": peer.domain, "emsg-to": o.emsgTo ?? DOMAIN, ...o.headers };
  const sig = signMessage(
    { method: "POST", url, headers, body: bytes },
    {
      keyId: o.keyId ?? serverKeyId(peer.domain, peer.kid),
      privateKey: o.signWith ?? peer.key.privateKey,
      created: o.created ?? Math.floor(Date.now() / 1000),
      nonce: o.nonce ?? randomId16(),
      components: FEDERATION_COMPONENTS,
    },
  );
  return new Request(url, { method: "POST", headers: { ...headers, ...sig }, body: bytes });
}

export async function sendFederated(peer: Peer, items: FedItem[]): Promise<Array<{ id: string; ok?: true; error?: string }>> {
  const res = await SELF.fetch(federationRequest(peer, "/inbox", { items }));
  if (res.status !== 200) throw new Error(`inbox: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { results: Array<{ id: string; ok?: true; error?: string }> }).results;
}

export function accountStub(address: Address) {
  return env.ACCOUNT.get(env.ACCOUNT.idFromName(address));
}
