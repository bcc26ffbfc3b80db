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

export function outboxOf(env: Env, domain: Domain) {
  const id = env.OUTBOX.idFromName(domain);
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

export async function enqueueRemote(env: Env, domain: Domain, queued: Queued[]): Promise<void> {
  if (queued.length > 0) await outboxOf(env, domain).enqueue(domain, queued);
}

/** A hub's fan-out to a remote domain: resolves once the peer took the items, or they are queued or bounced. */
export async function deliverRemote(env: Env, domain: Domain, queued: Queued[]): Promise<void> {
  if (queued.length > 0) await outboxOf(env, domain).deliver(domain, queued);
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
