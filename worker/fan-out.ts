import { sha256 } from "@noble/hashes/sha2.js";
import { domainOf, type Address, type Domain } from "../shared/address.js";
import { toB64u } from "../shared/base64url.js";
import { EmsgError, isErrorCode } from "../shared/errors.js";
import type { AuthorEvidence, ConvPayload } from "../shared/wire/index.js";
import { convEntries } from "./conv-entries.js";
import type { Env } from "./env.js";
import { accountOf, bounce, deliverRemote, isLocal, type FedDelivery } from "./routing.js";
import { registeredOf } from "./registry.js";

/**
 * One payload of a conversation and the members it goes to. `answered`: its submitting device
 * sent it to this hub directly and so was answered with its position (see receiveLocally).
 */
export interface Delivery {
  to: Address[];
  payload: ConvPayload;
  answered?: boolean;
  /** What proves the author to other domains when it is not on this hub's (PROTOCOL §9). */
  evidence?: AuthorEvidence;
}

/**
 * A hub's fan-out goes in two lanes, each in log order on its own: local accounts, and other
 * domains (through their Outboxes). A local member's mailbox copy then waits for a peer's answer
 * to the batch before for a short while at most (LOCAL_PACE_MS), not until it answers (up to the
 * Outbox's timeout when the peer is down).
 */
export type Lane = "local" | "remote";
export const LANES: readonly Lane[] = ["local", "remote"];

/**
 * Hands a batch of a hub's entries to their local recipients: each account gets one call with
 * all of its items in order, a share of one transaction per message instead of one each. Resolves
 * with what the local authors of answered entries said of their devices (see ConvBatchAnswer).
 */
export async function deliverLocal(env: Env, deliveries: Delivery[]): Promise<Map<Address, string | null>> {
  const local = new Map<Address, ConvPayload[]>();
  const answered = new Map<Address, string[]>();
  for (const delivery of deliveries) {
    const { to, payload } = delivery;
    for (const address of to) if (isLocal(env, address)) append(local, address, payload);
    if (delivery.answered && isLocal(env, payload.from)) append(answered, payload.from, payload.id);
  }
  const soleDevices = new Map<Address, string | null>();
  await Promise.all(
    [...local].map(async ([address, payloads]) => {
      const ids = answered.get(address);
      const soleDevice = await receiveLocally(env, address, payloads, ids);
      if (ids) soleDevices.set(address, soleDevice);
    }),
  );
  return soleDevices;
}

/**
 * Hands a batch of a hub's entries to the other domains of their recipients: one handover to each
 * domain's Outbox. Resolves with what the servers of remote authors of answered entries said of
 * their devices, as deliverLocal does for local ones (null: not said, or more than one).
 */
export async function deliverToPeers(env: Env, deliveries: Delivery[]): Promise<Map<Address, string | null>> {
  const remote = new Map<Domain, FedDelivery[]>();
  for (const delivery of deliveries) {
    const domains = new Map<Domain, Address[]>();
    for (const address of delivery.to) if (!isLocal(env, address)) append(domains, domainOf(address), address);
    const own = delivery.answered === true && delivery.payload.type === "application";
    for (const [domain, addresses] of domains) append(remote, domain, itemFor(delivery.payload, domain, addresses, delivery.evidence, own && addresses.includes(delivery.payload.from)));
  }
  const soleDevices = new Map<Address, string | null>();
  await Promise.all(
    [...remote].map(async ([domain, items]) => {
      const said = await deliverRemote(env, domain, items);
      items.forEach((item, i) => {
        if (item.answered) soleDevices.set(item.item.from, said[i] ?? null);
      });
    }),
  );
  return soleDevices;
}

/**
 * One local account's items from a hub (here or remote); what its policy refuses bounces to the
 * author, when proven (`claims`: a remote hub's evidence of each item's author, see receiveConvBatch). `answered`: ids of the account's own submissions whose device has the hub's answer.
 * Resolves with the account's device when it has only one and was asked (answered ids given).
 */
export async function receiveLocally(env: Env, address: Address, payloads: ConvPayload[], answered: string[] = [], claims?: AuthorEvidence[]): Promise<string | null> {
  // A roster may name anything: a name that is no account here must not become an Account object.
  const { outcomes, soleDevice, unproven = [] } = (await registeredOf(env, [address])).has(address)
    ? await accountOf(env, address).receiveConvBatch(convEntries(payloads, answered, claims), Date.now())
    : { outcomes: payloads.map(() => ({ ok: false, error: new EmsgError("not_found", "No such account here.").toJSON() }) as const), soleDevice: null };
  // The hub's word alone does not make an address the author: it hears of no refusal.
  const quiet = new Set(unproven);
  await Promise.all(
    outcomes.map(async (outcome, i) => {
      const payload = payloads[i]!;
      if (outcome.ok || address === payload.from || quiet.has(i) || !isErrorCode(outcome.error.error)) return;
      await bounce(env, payload.from, { ref: payload.id, to: address, error: outcome.error.error, conversation: payload.conversation });
    }),
  );
  return soleDevice;
}

/** `answered`: the entry goes to its author's account, whose device has the hub's answer (see receiveConvBatch). */
function itemFor(payload: ConvPayload, domain: Domain, addresses: Address[], evidence: AuthorEvidence = {}, answered = false): FedDelivery {
  return { id: fedItemId(payload, domain), kind: "conv_deliver", conversation: payload.conversation, to: addresses, item: payload, ...evidence, ...(answered ? { answered: true as const } : {}) };
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

// A withdrawal or an ask to rejoin has a position of its own, shared with nothing, as an application message has.
const TYPE_CODES: Record<ConvPayload["type"], number> = { application: 0, commit: 1, proposal: 2, welcome: 3, withdrawn: 0, rejoin: 0 };
/**
 * A conversation's and domain's id prefix, hashed once rather than for every entry: the base64url
 * of its first 9 bytes (12 characters, which no later byte changes) and its 10th byte.
 */
type IdHead = { conversation: string; domain: Domain; text: string; byte: number };
const idHeads = new Map<string, IdHead>();
const MAX_ID_PREFIXES = 10_000;
/** The head last used: a fan-out round's entries are one conversation's, so most ids need no lookup. */
let lastHead: IdHead | undefined;
const B64U_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const b64uChar = (sextet: number) => B64U_ALPHABET.charCodeAt(sextet);

function idHeadOf(conversation: string, domain: Domain): IdHead {
  if (lastHead && lastHead.conversation === conversation && lastHead.domain === domain) return lastHead;
  const key = `${conversation}\n${domain}`;
  let head = idHeads.get(key);
  if (!head) {
    if (idHeads.size >= MAX_ID_PREFIXES) idHeads.clear();
    const hash = sha256(new TextEncoder().encode(key));
    head = { conversation, domain, text: toB64u(hash.subarray(0, 9)), byte: hash[9]! };
    idHeads.set(key, head);
  }
  return (lastHead = head);
}

/**
 * Deterministic, so a re-run fan-out is deduplicated by the receiving server: the base64url of 10
 * bytes of SHA-256 of the conversation and domain, then 6 bytes of hub seq and payload type. The
 * last 7 bytes are encoded here, as 3 + 3 + 1 bytes: toB64u of the 16 (btoa and three replaces)
 * was ~1.7 µs an entry in node, each federated message's.
 */
export function fedItemId(payload: ConvPayload, domain: Domain): string {
  const head = idHeadOf(payload.conversation, domain);
  const n = payload.hubSeq * 4 + TYPE_CODES[payload.type];
  // Bytes 10-12 and 13-15 of the id, big-endian; bits above the 48 are not kept.
  const high = Math.floor(n / 0x1000000) & 0xffffff;
  const low = n % 0x1000000;
  const first = (head.byte << 16) | (high >>> 8);
  const second = ((high & 0xff) << 16) | (low >>> 8);
  const last = low & 0xff;
  return (
    head.text +
    String.fromCharCode(
      b64uChar(first >>> 18),
      b64uChar((first >>> 12) & 63),
      b64uChar((first >>> 6) & 63),
      b64uChar(first & 63),
      b64uChar(second >>> 18),
      b64uChar((second >>> 12) & 63),
      b64uChar((second >>> 6) & 63),
      b64uChar(second & 63),
      b64uChar(last >>> 2),
      b64uChar((last & 3) << 4),
    )
  );
}
