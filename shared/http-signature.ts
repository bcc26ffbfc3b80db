import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { type InnerList, type Item, parseDictionary, serializeInnerList } from "structured-headers";
import { type Address, type Domain, asAddress, asDomain } from "./address.js";
import { toB64 } from "./base64url.js";
import { EmsgError } from "./errors.js";
import { isB64uOfLength } from "./ids.js";

/**
 * HTTP Message Signatures (RFC 9421) with Content-Digest (RFC 9530), profiled by PROTOCOL §5/§7:
 * one signature labelled `emsg`, Ed25519, parameters created/nonce/keyid/alg.
 */

export interface HttpMessage {
  method: string;
  /** Absolute URL or `path?query`. */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body?: Uint8Array;
}

export interface ParsedSignature {
  keyId: string;
  created: number;
  nonce: string;
  alg: "ed25519";
  components: string[];
  /** The raw 64-byte signature. */
  signature: Uint8Array;
  /** The `@signature-params` line exactly as the signature base holds it. */
  signatureParams: string;
}

export const SIGNATURE_LABEL = "emsg";
export const DEFAULT_WINDOW_SECONDS = 300;
export const CLIENT_COMPONENTS = ["@method", "@path", "@query", "content-digest", "emsg-to"] as const;
export const FEDERATION_COMPONENTS = ["@method", "@path", "@query", "content-digest", "emsg-from", "emsg-to"] as const;
const DERIVED = new Set(["@method", "@path", "@query"]);
const PARAMS = ["created", "nonce", "keyid", "alg"] as const;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

function unauthorized(message: string): never {
  throw new EmsgError("unauthorized", message);
}

/** `sha-256=:b64(SHA-256(body)):` (RFC 9530). */
/** The Content-Digest header of `body`; `hash`, its SHA-256 when the caller has it already. */
export function contentDigest(body: Uint8Array, hash: Uint8Array = sha256(body)): string {
  return `sha-256=:${toB64(hash)}:`;
}

function hasBody(msg: HttpMessage): boolean {
  return msg.body !== undefined && msg.body.length > 0;
}

function header(msg: HttpMessage, name: string): string | undefined {
  const direct = msg.headers[name];
  if (direct !== undefined) return direct;
  for (const [key, value] of Object.entries(msg.headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

function componentValue(msg: HttpMessage, component: string): string {
  if (DERIVED.has(component)) {
    let url: URL;
    try {
      url = new URL(msg.url, "http://emsg.invalid");
    } catch {
      unauthorized(`The request URL "${msg.url}" cannot be parsed.`);
    }
    if (component === "@method") return msg.method;
    if (component === "@path") return url.pathname || "/";
    return url.search === "" ? "?" : url.search;
  }
  const raw = header(msg, component);
  if (raw === undefined) unauthorized(`The signed header "${component}" is missing.`);
  // A line break would let a header forge extra lines of the signature base.
  if (/[\r\n\0]/.test(raw)) unauthorized(`The signed header "${component}" holds a line break.`);
  return raw.trim();
}

function signatureBase(msg: HttpMessage, components: readonly string[], signatureParams: string): Uint8Array {
  const lines = components.map((c) => `"${c}": ${componentValue(msg, c)}`);
  lines.push(`"@signature-params": ${signatureParams}`);
  return new TextEncoder().encode(lines.join("\n"));
}

/** The signature base as text, for test vectors and debugging. */
export function signatureBaseText(msg: HttpMessage, parsed: Pick<ParsedSignature, "components" | "signatureParams">): string {
  return new TextDecoder().decode(signatureBase(msg, parsed.components, parsed.signatureParams));
}

function serializeParams(components: readonly string[], p: { created: number; nonce: string; keyId: string }): string {
  const items: Item[] = components.map((c) => [c, new Map()]);
  const params = new Map<string, string | number>([
    ["created", p.created],
    ["nonce", p.nonce],
    ["keyid", p.keyId],
    ["alg", "ed25519"],
  ]);
  return serializeInnerList([items, params]);
}

export type SignatureHeaders = { "content-digest"?: string; "signature-input": string; signature: string };

/**
 * What signing a request covers: the signature base to sign, and the headers to add once its
 * Ed25519 signature is made. `content-digest` is computed and covered when the body is non-empty
 * and left out of the covered list otherwise, so CLIENT_COMPONENTS/FEDERATION_COMPONENTS fit
 * every request. Split from signMessage for signers that are not noble (WebCrypto in workerd).
 */
export function signingInput(
  msg: HttpMessage,
  opts: { keyId: string; created: number; nonce: string; components: readonly string[]; bodyHash?: Uint8Array },
): { base: Uint8Array; headers: (signature: Uint8Array) => SignatureHeaders } {
  const digest = hasBody(msg) ? contentDigest(msg.body!, opts.bodyHash) : undefined;
  const components = digest ? [...opts.components] : opts.components.filter((c) => c !== "content-digest");
  const withDigest: HttpMessage = digest ? { ...msg, headers: { ...msg.headers, "content-digest": digest } } : msg;
  const signatureParams = serializeParams(components, opts);
  return {
    base: signatureBase(withDigest, components, signatureParams),
    headers: (sig) => {
      const out = {
        "signature-input": `${SIGNATURE_LABEL}=${signatureParams}`,
        signature: `${SIGNATURE_LABEL}=:${toB64(sig)}:`,
      };
      return digest ? { "content-digest": digest, ...out } : out;
    },
  };
}

/** Signs a request; returns the headers to add. */
export function signMessage(
  msg: HttpMessage,
  opts: { keyId: string; privateKey: Uint8Array; created: number; nonce: string; components: readonly string[] },
): SignatureHeaders {
  const input = signingInput(msg, opts);
  return input.headers(ed25519.sign(input.base, opts.privateKey));
}

function dictionaryMember(msg: HttpMessage, name: string): Item | InnerList {
  const raw = header(msg, name);
  if (raw === undefined) unauthorized(`The ${name} header is missing.`);
  let dict;
  try {
    dict = parseDictionary(raw);
  } catch (e) {
    unauthorized(`The ${name} header is not a structured dictionary: ${(e as Error).message}.`);
  }
  const member = dict.get(SIGNATURE_LABEL);
  if (member === undefined) unauthorized(`The ${name} header has no "${SIGNATURE_LABEL}" member.`);
  return member;
}

function parseComponents(list: Item[]): string[] {
  const components: string[] = [];
  for (const [value, params] of list) {
    if (typeof value !== "string") unauthorized("Signature-Input components must be quoted strings.");
    if (params.size > 0) unauthorized(`Component parameters (on "${value}") are not supported.`);
    if (!DERIVED.has(value) && !HEADER_NAME.test(value)) unauthorized(`"${value}" is not a supported component.`);
    if (components.includes(value)) unauthorized(`The component "${value}" is listed twice.`);
    components.push(value);
  }
  return components;
}

/**
 * Reads the `emsg` signature from Signature-Input and Signature. Any malformed, missing or
 * unsupported part is refused with `unauthorized` and a message naming it.
 */
export function parseSignature(msg: HttpMessage): ParsedSignature {
  const input = dictionaryMember(msg, "signature-input");
  if (!Array.isArray(input[0])) unauthorized("The Signature-Input member must be an inner list.");
  const [list, params] = input as InnerList;
  const components = parseComponents(list);
  for (const key of params.keys()) {
    if (!(PARAMS as readonly string[]).includes(key)) unauthorized(`The signature parameter "${key}" is not supported.`);
  }
  const created = params.get("created");
  const nonce = params.get("nonce");
  const keyId = params.get("keyid");
  const alg = params.get("alg");
  if (typeof created !== "number" || !Number.isSafeInteger(created) || created < 0) {
    unauthorized("The signature needs created=<seconds> as a non-negative integer.");
  }
  if (typeof nonce !== "string" || !isB64uOfLength(nonce, 16)) unauthorized('The signature needs nonce="<id16>".');
  if (typeof keyId !== "string" || keyId.length === 0) unauthorized('The signature needs keyid="…".');
  if (alg !== "ed25519") unauthorized('The signature needs alg="ed25519".');

  const sig = dictionaryMember(msg, "signature");
  if (!(sig[0] instanceof ArrayBuffer)) unauthorized("The Signature member must be a byte sequence.");
  if (sig[1].size > 0) unauthorized("The Signature member takes no parameters.");
  const signature = new Uint8Array(sig[0]);
  if (signature.length !== 64) unauthorized("An Ed25519 signature is 64 bytes.");
  return { keyId, created, nonce, alg, components, signature, signatureParams: serializeInnerList(input as InnerList) };
}

function checkDigest(msg: HttpMessage, bodyHash?: Uint8Array): void {
  const raw = header(msg, "content-digest");
  if (raw === undefined) unauthorized("A request with a body needs a signed Content-Digest.");
  let dict;
  try {
    dict = parseDictionary(raw);
  } catch {
    throw new EmsgError("bad_request", "The Content-Digest header is not a structured dictionary.");
  }
  const member = dict.get("sha-256");
  if (!member || !(member[0] instanceof ArrayBuffer)) {
    throw new EmsgError("bad_request", "The Content-Digest header needs a sha-256 byte sequence.");
  }
  const want = bodyHash ?? sha256(msg.body ?? new Uint8Array());
  const got = new Uint8Array(member[0]);
  if (got.length !== want.length || got.some((b, i) => b !== want[i])) {
    unauthorized("The body does not match its Content-Digest.");
  }
}

export interface VerifyOptions {
  now: number;
  windowSeconds?: number;
  requiredComponents: readonly string[];
  expectHeaders?: Record<string, string>;
  seen?: (keyId: string, nonce: string) => boolean;
  /** The body's SHA-256, when the caller computed it already (natively, in workerd). */
  bodyHash?: Uint8Array;
}

/**
 * Verifies a parsed signature: time window, covered components, Content-Digest against the body,
 * expected header values (e.g. EMSG-To = this server), replay (when `seen` is given) and the
 * Ed25519 signature. Throws `unauthorized`, or `bad_request` for a malformed Content-Digest.
 * Recording the nonce after success is the caller's job.
 */
export function verifyMessage(msg: HttpMessage, parsed: ParsedSignature, publicKey: Uint8Array, opts: VerifyOptions): void {
  const base = checkMessage(msg, parsed, opts);
  let ok = false;
  try {
    ok = publicKey.length === 32 && ed25519.verify(parsed.signature, base, publicKey, { zip215: false });
  } catch {
    ok = false;
  }
  if (!ok) badSignature();
}

/**
 * Every check of verifyMessage but the Ed25519 one, which is left to the caller (WebCrypto in
 * workerd): throws as verifyMessage does, else returns the signature base the signature must cover.
 */
export function checkMessage(msg: HttpMessage, parsed: ParsedSignature, opts: VerifyOptions): Uint8Array {
  const window = opts.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  if (Math.abs(opts.now - parsed.created) > window) {
    unauthorized(`The signature was made at ${parsed.created}, more than ${window} s from now (${opts.now}).`);
  }
  const body = hasBody(msg);
  for (const c of opts.requiredComponents) {
    if (c === "content-digest" && !body) continue;
    if (!parsed.components.includes(c)) unauthorized(`The signature does not cover "${c}".`);
  }
  if (body && !parsed.components.includes("content-digest")) unauthorized('The signature does not cover "content-digest".');
  if (parsed.components.includes("content-digest")) checkDigest(msg, opts.bodyHash);
  for (const [name, want] of Object.entries(opts.expectHeaders ?? {})) {
    const got = header(msg, name)?.trim();
    if (got !== want) unauthorized(`The ${name} header is "${got ?? ""}", expected "${want}".`);
  }
  if (opts.seen?.(parsed.keyId, parsed.nonce)) unauthorized("This signature's nonce was already used.");
  return signatureBase(msg, parsed.components, parsed.signatureParams);
}

/** The refusal verifyMessage throws when the Ed25519 signature itself is wrong. */
export function badSignature(): never {
  unauthorized("The request signature does not verify.");
}

export type KeyId =
  | { kind: "device"; address: Address; deviceId: string }
  | { kind: "server"; domain: Domain; kid: string };

export function deviceKeyId(address: Address, deviceId: string): string {
  return `device:${address}/${deviceId}`;
}

export function serverKeyId(domain: Domain, kid: string): string {
  return `server:${domain}/${kid}`;
}

/** Splits `device:ADDRESS/DEVICEID` or `server:DOMAIN/KID`; anything else is `unauthorized`. */
export function parseKeyId(keyId: string): KeyId {
  const m = /^(device|server):([^/]+)\/([A-Za-z0-9_-]+)$/.exec(keyId);
  if (!m) unauthorized(`The keyid "${keyId}" is neither device:ADDRESS/DEVICEID nor server:DOMAIN/KID.`);
  const [, kind, who, id] = m as unknown as [string, string, string, string];
  try {
    if (kind === "device" && isB64uOfLength(id, 16)) return { kind, address: asAddress(who), deviceId: id };
    if (kind === "server" && isB64uOfLength(id, 8)) return { kind, domain: asDomain(who), kid: id };
  } catch {
    unauthorized(`The keyid "${keyId}" names no valid ${kind === "device" ? "address" : "domain"}.`);
  }
  unauthorized(`The keyid "${keyId}" has a malformed ${kind === "device" ? "device id" : "kid"}.`);
}
