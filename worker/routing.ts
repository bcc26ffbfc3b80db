import { domainOf, type Address, type Domain } from "../shared/address.js";
import { randomId16 } from "../shared/ids.js";
import type { BouncePayload, FedItem } from "../shared/wire/index.js";
import { counted } from "./call-counts.js";
import type { Env } from "./env.js";

/** Where a piece of traffic goes: a local Account object, or the Outbox of a remote domain. */

/** A federation item waiting in an Outbox; `bounceTo` is the local user told if it fails for good. */
export interface Queued {
  item: FedItem;
  bounceTo: Address | null;
  ref: string;
  to: Address;
  conversation?: string;
}

/** A Queued item as an Outbox keeps it: the item as its JSON text, and its id. */
export type Handed = Omit<Queued, "item"> & { id: string; json: string };

export function handed(q: Queued): Handed {
  return { id: q.item.id, json: JSON.stringify(q.item), bounceTo: q.bounceTo, ref: q.ref, to: q.to, conversation: q.conversation };
}

/** An item of a hub's fan-out to another domain. */
export type FedDelivery = Extract<FedItem, { kind: "conv_deliver" }>;

/** A fan-out item as an Outbox queues it: its author is told if it fails for good. */
export function queuedDelivery(item: FedDelivery): Queued {
  return { item, bounceTo: item.item.from, ref: item.item.id, to: item.to[0]!, conversation: item.conversation };
}

/**
 * Fan-out items of one conversation as they cross to their Outbox (see deliverRemote): their
 * JSON texts joined by commas, where each ends, and their ids. A string crosses the call as one
 * copy; an object an item, with its strings, was most of the call's cost, itself ~8% of a
 * federated hub's JavaScript. The rest of a Queued item is read from its text should it fail.
 */
export interface Handover {
  conversation: string;
  text: string;
  ends: number[];
  ids: string[];
}

function handoverOf(conversation: string, items: FedDelivery[]): Handover {
  const texts = items.map((item) => JSON.stringify(item));
  const ends: number[] = [];
  let at = -1;
  for (const text of texts) ends.push((at += text.length + 1));
  return { conversation, text: texts.join(","), ends, ids: items.map((item) => item.id) };
}

/** Each item's JSON text of a Handover, in order (handoverOf's inverse). */
export function textsOf({ text, ends }: Handover): string[] {
  return ends.map((end, i) => text.slice(i === 0 ? 0 : ends[i - 1]! + 1, end));
}

export function isLocal(env: Env, address: Address): boolean {
  return domainOf(address) === env.EMSG_DOMAIN;
}

export function accountOf(env: Env, address: Address) {
  const id = env.ACCOUNT.idFromName(address);
  return counted(env, "Account", id, env.ACCOUNT.get(id));
}

export function conversationOf(env: Env, ref: string) {
  const id = env.CONVERSATION.idFromName(ref);
  return counted(env, "Conversation", id, env.CONVERSATION.get(id));
}

/** `EMSG_OUTBOX_SHARDS`: Outbox objects per peer domain, 1 (the default) to 64; see outboxOf. */
export function outboxShards(env: Env): number {
  const text = env.EMSG_OUTBOX_SHARDS;
  if (text === undefined) return 1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`EMSG_OUTBOX_SHARDS: "${text}" is not a whole number from 1 to 64.`);
  return n;
}

/** FNV-1a of `key`, modulo `shards`: spread, cheap, and the same in every isolate. */
function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h % shards;
}

/**
 * The name of the Outbox of `domain` that carries items of `key` (a conversation, else the
 * recipient). A large domain spreads its traffic to one peer over EMSG_OUTBOX_SHARDS objects
 * (docs/scale.md); a key always takes the same one, so a conversation's items still leave in
 * order. The first keeps the domain's name, the Outbox of a server that has one.
 */
function outboxName(env: Env, domain: Domain, key: string): string {
  const shards = outboxShards(env);
  const shard = shards > 1 ? shardOf(key, shards) : 0;
  return shard === 0 ? domain : `${domain}#${shard}`;
}

export function outboxOf(env: Env, domain: Domain, key = "") {
  const id = env.OUTBOX.idFromName(outboxName(env, domain, key));
  return counted(env, "Outbox", id, env.OUTBOX.get(id));
}

/** The replay and rate state of one subject, named `scope:subject` (see GateObject). */
export function gateOf(env: Env, name: string) {
  const id = env.GATE.idFromName(name);
  return counted(env, "Gate", id, env.GATE.get(id));
}

export function serverOf(env: Env) {
  const id = env.SERVER.idFromName("server");
  return counted(env, "Server", id, env.SERVER.get(id));
}

/** Items by the Outbox that carries them, each group in order. */
function byOutbox(env: Env, domain: Domain, queued: Queued[]): { outbox: ReturnType<typeof outboxOf>; items: Queued[] }[] {
  const groups = new Map<string, { outbox: ReturnType<typeof outboxOf>; items: Queued[] }>();
  for (const q of queued) {
    const key = q.conversation ?? q.to;
    const name = outboxName(env, domain, key);
    const group = groups.get(name) ?? { outbox: outboxOf(env, domain, key), items: [] };
    group.items.push(q);
    groups.set(name, group);
  }
  return [...groups.values()];
}

export async function enqueueRemote(env: Env, domain: Domain, queued: Queued[]): Promise<void> {
  await Promise.all(byOutbox(env, domain, queued).map(({ outbox, items }) => outbox.enqueue(domain, items)));
}

/**
 * A hub's fan-out to a remote domain: resolves once the peer took the items, or they are queued or
 * bounced, with the `soleDevice` the peer answered for each item (null when none), in order.
 */
export async function deliverRemote(env: Env, domain: Domain, items: FedDelivery[]): Promise<(string | null)[]> {
  const byConversation = new Map<string, FedDelivery[]>();
  for (const item of items) {
    const list = byConversation.get(item.conversation);
    if (list) list.push(item);
    else byConversation.set(item.conversation, [item]);
  }
  const groups = [...byConversation];
  const said = await Promise.all(groups.map(([conversation, list]) => outboxOf(env, domain, conversation).deliver(domain, handoverOf(conversation, list))));
  const byItem = new Map<FedDelivery, string | null>();
  groups.forEach(([, list], g) => list.forEach((item, i) => byItem.set(item, said[g]![i] ?? null)));
  return items.map((item) => byItem.get(item) ?? null);
}

/** Tells `sender` (local or remote) that something it sent did not arrive. */
export async function bounce(env: Env, sender: Address, payload: BouncePayload): Promise<void> {
  if (isLocal(env, sender)) {
    await accountOf(env, sender).deliver({ kind: "bounce", ...payload });
    return;
  }
  const item: FedItem = { id: randomId16(), kind: "bounce", sender, ...payload };
  await enqueueRemote(env, domainOf(sender), [{ item, bounceTo: null, ref: payload.ref, to: sender }]);
}
