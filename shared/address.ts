import { Checked } from "./checked.js";
import { EmsgError } from "./errors.js";

/**
 * An EMSG address `name#host`: the part after `#` is the host name of the account's server.
 * A branded string so a raw string never passes for a checked, normalized address.
 */
export type Address = string & { readonly __brand: "Address" };
export type Domain = string & { readonly __brand: "Domain" };

export interface ParsedAddress {
  name: string;
  domain: Domain;
  address: Address;
}

export const NAME_MAX = 64;
export const DOMAIN_MAX = 253;
export const ADDRESS_MAX = NAME_MAX + 1 + DOMAIN_MAX;

// Names are ASCII on purpose: no mixed-script look-alikes in the part people read aloud.
const NAME = /^[a-z0-9](?:[a-z0-9]|[._-](?=[a-z0-9]))*$/;
// An A-label's `xn--` counts toward the 63 characters like any other.
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4ISH = /^[0-9.]+$/;

function bad(message: string): never {
  throw new EmsgError("bad_request", message);
}

/**
 * Normalizes a host name as PROTOCOL §2 says: one trailing dot dropped, then the WHATWG URL host
 * parser (UTS #46 ToASCII, non-transitional), so every name reaches the wire as its A-label form
 * and a name a URL parser reads as an IPv4 address (`0x7f.1`, `im.123`) never passes for a host.
 */
export function parseDomain(input: string): Domain {
  let host = input.normalize("NFKC").trim().toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host.length === 0) bad("The server part after # is empty.");
  if (host.length > DOMAIN_MAX * 4) bad("The server name is too long.");
  if (/[\s/?#@:\[\]\\%]/.test(host)) bad("The server part may hold only a host name.");
  try {
    host = new URL(`http://${host}/`).hostname;
  } catch {
    bad("The server name is not a valid domain name.");
  }
  if (host.length > DOMAIN_MAX) bad("The server name is longer than 253 characters.");
  const labels = host.split(".");
  if (labels.length < 2) bad("The server name needs at least one dot, like im.example.com.");
  if (IPV4ISH.test(host)) bad("The server part must be a host name, not an IP address.");
  for (const label of labels) if (!LABEL.test(label)) bad(`"${label}" is not a valid part of a host name.`);
  return host as Domain;
}

export function parseName(input: string): string {
  const name = input.normalize("NFKC").trim().toLowerCase();
  if (name.length === 0) bad("The name before # is empty.");
  if (name.length > NAME_MAX) bad(`The name is longer than ${NAME_MAX} characters.`);
  if (!NAME.test(name)) bad("A name uses a-z, 0-9 and single . _ - between them.");
  return name;
}

/**
 * Parses and normalizes an address as a person may type or paste it: surrounding space, an
 * `emsg:` prefix, full-width ＃ and upper case are accepted; everything else is refused.
 */
export function parseAddress(input: string): ParsedAddress {
  if (typeof input !== "string") bad("An address must be text.");
  let text = input.normalize("NFKC").trim();
  if (text.length > ADDRESS_MAX * 4) bad("The address is too long.");
  if (/^emsg:/i.test(text)) text = text.slice(5);
  const hash = text.indexOf("#");
  if (hash < 0) bad("An EMSG address looks like name#server, with a #.");
  if (text.indexOf("#", hash + 1) >= 0) bad("An address has exactly one #.");
  const name = parseName(text.slice(0, hash));
  const domain = parseDomain(text.slice(hash + 1));
  return { name, domain, address: `${name}#${domain}` as Address };
}

const normalAddresses = new Checked();
const normalDomains = new Checked();

/** Accepts only an address already in normal form, as every wire field must be. */
export function asAddress(input: unknown): Address {
  if (typeof input !== "string") bad("An address must be text.");
  if (normalAddresses.has(input)) return input as Address;
  const parsed = parseAddress(input);
  if (parsed.address !== input) bad(`"${input}" is not in normal form; use "${parsed.address}".`);
  normalAddresses.add(input);
  return parsed.address;
}

export function asDomain(input: unknown): Domain {
  if (typeof input !== "string") bad("A domain must be text.");
  if (normalDomains.has(input)) return input as Domain;
  const domain = parseDomain(input);
  if (domain !== input) bad(`"${input}" is not in normal form; use "${domain}".`);
  normalDomains.add(input);
  return domain;
}

export function isAddress(input: unknown): input is Address {
  try {
    asAddress(input);
    return true;
  } catch {
    return false;
  }
}

export function domainOf(address: Address): Domain {
  return address.slice(address.indexOf("#") + 1) as Domain;
}

export function nameOf(address: Address): string {
  return address.slice(0, address.indexOf("#"));
}
