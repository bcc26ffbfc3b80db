import * as v from "valibot";
import { type Domain, asDomain, parseDomain } from "./address.js";
import { fromB64u, toB64u } from "./base64url.js";
import { EmsgError } from "./errors.js";
import { PublicKeySchema, keyIdOf } from "./identity.js";

/** The well-known document (PROTOCOL §3): how a peer finds a server's API, keys and limits. */

export const PROTOCOL_VERSION = 1;
export const WELL_KNOWN_PATH = "/.well-known/emsg";
export const DISCOVERY_CACHE_MS = 60 * 60 * 1000;

export interface Limits {
  maxBodyBytes: number;
  maxMessageBytes: number;
  maxBatchItems: number;
  maxFederationBodyBytes: number;
  mailboxTtlDays: number;
  keyPackagesPerDevice: number;
  sessionIdleSeconds: number;
  /** Largest sealed attachment blob (§15). */
  maxBlobBytes: number;
  /** Sealed bytes an account may keep in blobs at once (§15). */
  blobQuotaBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBodyBytes: 262_144,
  maxMessageBytes: 65_536,
  maxBatchItems: 2000,
  maxFederationBodyBytes: 4_194_304,
  mailboxTtlDays: 30,
  keyPackagesPerDevice: 100,
  sessionIdleSeconds: 300,
  // 100 MiB of plaintext and its tags (16 bytes a 64 KiB chunk).
  maxBlobBytes: 104_883_200,
  blobQuotaBytes: 1_073_741_824,
});

export const CAPABILITIES = ["mailbox", "friends", "conversations", "groups", "sessions", "webrtc", "moves", "device-links"] as const;

const Count = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

const LimitsSchema = v.looseObject(
  Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, v.optional(Count)])) as Record<
    keyof Limits,
    v.OptionalSchema<typeof Count, undefined>
  >,
);

const KeySchema = v.looseObject({
  kid: v.pipe(v.string(), v.maxLength(64)),
  alg: v.pipe(v.string(), v.maxLength(64)),
  key: v.string(),
});

const ApiSchema = v.pipe(
  v.string(),
  v.maxLength(2048),
  v.check(
    (api) => (api.startsWith("/") && !api.startsWith("//")) || /^https:\/\/[^/]/.test(api),
    "api must be a path starting with / or an absolute https URL.",
  ),
);

export const DiscoveryDocSchema = v.looseObject({
  emsg: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  domain: v.string(),
  api: ApiSchema,
  keys: v.pipe(v.array(KeySchema), v.maxLength(32)),
  limits: v.optional(LimitsSchema, {}),
  capabilities: v.pipe(v.array(v.pipe(v.string(), v.maxLength(128))), v.maxLength(128)),
  software: v.pipe(v.string(), v.maxLength(256)),
});

export interface DiscoveryKey {
  kid: string;
  alg: "ed25519";
  key: string;
}

export interface DiscoveryDoc {
  emsg: number;
  domain: Domain;
  api: string;
  keys: DiscoveryKey[];
  limits: Limits;
  capabilities: string[];
  software: string;
  [extension: string]: unknown;
}

export function buildDiscoveryDoc(o: {
  domain: Domain;
  keys: { kid: string; key: Uint8Array }[];
  limits?: Partial<Limits>;
  software: string;
  api?: string;
}): DiscoveryDoc {
  for (const k of o.keys) {
    if (k.kid !== keyIdOf(k.key)) throw new EmsgError("internal", `Server key ${k.kid} is not named by its own kid.`);
  }
  return {
    emsg: PROTOCOL_VERSION,
    domain: o.domain,
    api: o.api ?? "/emsg/v1",
    keys: o.keys.map((k) => ({ kid: k.kid, alg: "ed25519", key: toB64u(k.key) })),
    limits: { ...DEFAULT_LIMITS, ...o.limits },
    capabilities: [...CAPABILITIES],
    software: o.software,
  };
}

/**
 * Checks a peer's discovery document. Malformed → `bad_request`; another protocol version →
 * `unsupported_version`; a document for another domain → `unauthorized`. Keys of unknown `alg`
 * are dropped (an extension); at least one Ed25519 key must remain, each named by its kid.
 */
export function parseDiscoveryDoc(json: unknown, expectDomain: Domain): DiscoveryDoc {
  const parsed = v.safeParse(DiscoveryDocSchema, json);
  if (!parsed.success) {
    const where = v.getDotPath(parsed.issues[0]);
    throw new EmsgError("bad_request", `Bad discovery document${where ? ` at ${where}` : ""}: ${parsed.issues[0].message}`);
  }
  const doc = parsed.output;
  if (doc.emsg !== PROTOCOL_VERSION) {
    throw new EmsgError("unsupported_version", `${expectDomain} speaks EMSG ${doc.emsg}; this side speaks ${PROTOCOL_VERSION}.`);
  }
  if (doc.domain !== expectDomain) {
    throw new EmsgError("unauthorized", `The discovery document at ${expectDomain} speaks for "${doc.domain}".`);
  }
  const keys: DiscoveryKey[] = [];
  for (const k of doc.keys) {
    if (k.alg !== "ed25519") continue;
    if (!v.is(PublicKeySchema, k.key)) throw new EmsgError("bad_request", `Server key ${k.kid} is not 32 bytes of b64u.`);
    if (k.kid !== keyIdOf(fromB64u(k.key))) throw new EmsgError("bad_request", `Server key ${k.kid} does not match its kid.`);
    keys.push({ ...k, alg: "ed25519" });
  }
  if (keys.length === 0) throw new EmsgError("bad_request", `${expectDomain} publishes no Ed25519 server key.`);
  return { ...doc, domain: expectDomain, keys, limits: { ...DEFAULT_LIMITS, ...stripUndefined(doc.limits) } };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, val]) => val !== undefined)) as Partial<T>;
}

/** The server key named `kid`, or undefined (the caller refetches the document once). */
export function serverKey(doc: DiscoveryDoc, kid: string): Uint8Array | undefined {
  const k = doc.keys.find((key) => key.kid === kid);
  return k && fromB64u(k.key);
}

function badResolver(message: string): never {
  throw new EmsgError("bad_request", `EMSG_RESOLVE: ${message}`);
}

/**
 * Reads the development resolver map `"im.a.test=http://127.0.0.1:8787,im.b.test=http://…"`.
 * Each origin is http(s)://host[:port] with no path, query, fragment or credentials.
 */
export function parseResolverMap(text: string | undefined): Map<Domain, string> {
  const map = new Map<Domain, string>();
  for (const entry of (text ?? "").split(",")) {
    if (entry.trim() === "") continue;
    const eq = entry.indexOf("=");
    if (eq < 0) badResolver(`"${entry.trim()}" is not DOMAIN=ORIGIN.`);
    const domain = parseDomain(entry.slice(0, eq));
    const raw = entry.slice(eq + 1).trim();
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      badResolver(`"${raw}" is not a URL.`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") badResolver(`"${raw}" must be http or https.`);
    if (url.username || url.password) badResolver(`"${raw}" must not hold credentials.`);
    if (url.pathname !== "/" || url.search || url.hash || /^[a-z]+:\/\/[^/]+\/./i.test(raw) || raw.includes("?") || raw.includes("#")) {
      badResolver(`"${raw}" must be an origin with no path.`);
    }
    if (map.has(domain)) badResolver(`${domain} is listed twice.`);
    map.set(domain, url.origin);
  }
  return map;
}

/** Where a domain's server lives: the resolver map's entry, else `https://DOMAIN`. */
export function originFor(domain: Domain, map: Map<Domain, string>): string {
  return map.get(asDomain(domain)) ?? `https://${domain}`;
}

/** The API base URL a document names, resolved against the origin it came from. */
export function apiBaseOf(doc: DiscoveryDoc, origin: string): string {
  const api = doc.api.replace(/\/+$/, "");
  return api.startsWith("/") ? `${origin}${api}` : api;
}
