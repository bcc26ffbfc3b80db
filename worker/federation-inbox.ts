import * as v from "valibot";
import { domainOf, type Address, type Domain } from "../shared/address.js";
import { fromB64u } from "../shared/base64url.js";
import { EmsgError, RETRYABLE } from "../shared/errors.js";
import { verifyObject } from "../shared/signed.js";
import { parseFedItem } from "../shared/wire/fed-deliver.js";
import { FedItemSchema, parseConversationRef, type AuthorEvidence, type ConvPayload, type FedItem, type FedResult } from "../shared/wire/index.js";
import type { Env } from "./env.js";
import { limitGate } from "./auth.js";
import { recordsOf } from "./gate.js";
import { receiveLocally } from "./fan-out.js";
import { mayBounce } from "./policy/bounces.js";
import { registeredOf } from "./registry.js";
import { unwrap } from "./outcome.js";
import { checkFraming } from "./policy/framing.js";
import { accountOf, bounce, conversationOf, gateOf, isLocal } from "./routing.js";

/**
 * The claim of an item that carries no evidence, one object for all of them: the Account call
 * carries it once and a reference for each other item, not an object each.
 */
const NO_EVIDENCE: AuthorEvidence = Object.freeze({});

/** An item's id as the batch gives it, before the item is validated; "" when it has none. */
export function itemId(raw: unknown): string {
  return raw && typeof raw === "object" && typeof (raw as { id?: unknown }).id === "string" ? (raw as { id: string }).id : "";
}

/**
 * Applies a verified peer's batch (PROTOCOL §7) item by item: each gets its own result, a
 * repeated id gets the result it got the first time (`seen`, from the peer's gate), and an item
 * whose sender is not on the peer's domain is refused as `forbidden`.
 */
export async function receiveBatch(env: Env, from: Domain, raw: unknown[], seen: Record<string, FedResult>): Promise<FedResult[]> {
  const ids = raw.map(itemId);
  // Looked up once, in a Map: an id is whatever text the peer chose ("toString" reads a record's
  // prototype), and reading a record by a parsed string interns that string first.
  const repeats = new Map(Object.entries(seen));
  const repeated = ids.map((id) => repeats.get(id));
  const parsed = raw.map((item, i) => (repeated[i] ? undefined : parseFedItem(item)));
  const deliveries = new ConvDeliveries(env, raw.flatMap((_, i) => (parsed[i]?.success && parsed[i].output.kind === "conv_deliver" ? [i] : [])));
  // Every local user the batch names is looked up at once, before any Account object is touched.
  const named = parsed.flatMap((p) => (p?.success ? namedUsers(p.output).filter((a) => isLocal(env, a)) : []));
  const registered = named.length > 0 ? await registeredOf(env, named) : new Set<Address>();
  const results = await Promise.all(raw.map((_, i) => repeated[i] ?? resultOf(env, from, parsed[i]!, ids[i]!, { deliveries, registered, index: i })));
  const settled = results.filter((r, i) => repeated[i] === undefined && r.id !== "" && ("ok" in r || !RETRYABLE.has(r.error)));
  if (settled.length > 0) await gateOf(env, limitGate({ scope: "peer", subject: from })).remember(from, recordsOf(settled));
  return results;
}

/**
 * The batch's `conv_deliver` items gathered per local account, so each account takes all of its
 * items in one call (one transaction, one frame to its devices), in the order the hub sent them.
 * The calls are made once every such item of the batch was read (added, or refused before it
 * was), in batch order: items read at different times (one awaits a bounce, the next does not)
 * reached the accounts out of order or, once an early call had gone, never (issue 15).
 */
class ConvDeliveries {
  private readonly byAccount = new Map<Address, { index: number; payload: ConvPayload; claim: AuthorEvidence; answered: boolean; done: (error?: unknown, soleDevice?: string | null) => void }[]>();
  private readonly unread: Set<number>;

  /** `indexes`: the batch positions of its `conv_deliver` items. */
  constructor(
    private readonly env: Env,
    indexes: number[],
  ) {
    this.unread = new Set(indexes);
  }

  /**
   * `answered`: the hub says its author's device has its answer, and `to` is the author: resolves
   * with the account's only device then (see receiveConvBatch), else null.
   */
  add(index: number, to: Address, payload: ConvPayload, claim: AuthorEvidence, answered: boolean): Promise<string | null> {
    const delivered = new Promise<string | null>((resolve, reject) => {
      const list = this.byAccount.get(to) ?? [];
      list.push({ index, payload, claim, answered, done: (error, sole) => (error === undefined ? resolve(answered ? (sole ?? null) : null) : reject(error)) });
      this.byAccount.set(to, list);
    });
    this.read(index);
    return delivered;
  }

  /** The item at `index` was read; the last one hands everything on (after the item's other recipients, added in the same turn). */
  read(index: number): void {
    if (!this.unread.delete(index) || this.unread.size > 0) return;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    for (const [address, list] of this.byAccount) {
      list.sort((a, b) => a.index - b.index);
      const answered = list.flatMap((d) => (d.answered ? [d.payload.id] : []));
      receiveLocally(this.env, address, list.map((d) => d.payload), answered, list.map((d) => d.claim)).then(
        (sole) => list.forEach((d) => d.done(undefined, sole)),
        (error: unknown) => list.forEach((d) => d.done(error)),
      );
    }
    this.byAccount.clear();
  }
}

/** The local users an item is for, each of whom must be an account here. */
function namedUsers(item: FedItem): Address[] {
  switch (item.kind) {
    case "friend_request":
    case "friend_response":
      return [item.signed.body.to];
    case "conv_deliver":
    case "moved":
    case "deleted":
      return item.to;
    case "bounce":
      return [item.sender];
    case "conv_submit":
    case "conv_veto":
    case "conv_rejoin":
      return [];
  }
}

/** What the items of one batch share: the conversation deliveries being gathered, and which named users exist. */
interface BatchContext {
  deliveries: ConvDeliveries;
  /** The item's position in the batch. */
  index: number;
  registered: Set<Address>;
}

type ParsedItem = v.SafeParseResult<typeof FedItemSchema>;

async function resultOf(env: Env, from: Domain, parsed: ParsedItem, id: string, batch: BatchContext): Promise<FedResult> {
  try {
    if (!parsed.success) throw new EmsgError("bad_request", parsed.issues[0].message);
    const soleDevice = await apply(env, from, parsed.output, Date.now(), batch);
    return soleDevice ? { id, ok: true, soleDevice } : { id, ok: true };
  } catch (e) {
    if (e instanceof EmsgError) return { id, error: e.code, message: e.message };
    return { id, error: "internal", message: "The item could not be applied." };
  } finally {
    // A conversation item refused (or for nobody here) before it was added: the others need not wait for it.
    batch.deliveries.read(batch.index);
  }
}

function mustBeFrom(from: Domain, address: Address): void {
  if (domainOf(address) !== from) throw new EmsgError("forbidden", `${address} is not an account of ${from}.`);
}

function mustBeLocal(env: Env, address: Address): void {
  if (!isLocal(env, address)) throw new EmsgError("bad_request", `${address} is not an account of ${env.EMSG_DOMAIN}.`);
}

/** A local user the item is for: on this domain, and an account here. */
function mustBeUser(env: Env, batch: BatchContext, address: Address): void {
  mustBeLocal(env, address);
  if (!batch.registered.has(address)) throw new EmsgError("not_found", `${address} is not an account here.`);
}

/** Applies one item; an `answered` conv_deliver to its author resolves with the author's only device, if it has one. */
async function apply(env: Env, from: Domain, item: FedItem, now: number, batch: BatchContext): Promise<string | null | undefined> {
  switch (item.kind) {
    case "friend_request": {
      const body = item.signed.body;
      mustBeFrom(from, body.from);
      mustBeUser(env, batch, body.to);
      if (!verifyObject(fromB64u(body.accountKey), "friend-request", item.signed)) throw new EmsgError("unauthorized", "The friend request's signature does not verify.");
      unwrap(await accountOf(env, body.to).receiveFriendRequest(item.signed, now));
      return;
    }
    case "friend_response": {
      const body = item.signed.body;
      mustBeFrom(from, body.from);
      mustBeUser(env, batch, body.to);
      if (!verifyObject(fromB64u(body.accountKey), "friend-response", item.signed)) throw new EmsgError("unauthorized", "The friend response's signature does not verify.");
      unwrap(await accountOf(env, body.to).receiveFriendResponse(item.signed, now));
      return;
    }
    case "conv_submit": {
      mustBeFrom(from, item.from);
      const ref = parseConversationRef(item.conversation);
      if (ref.hub !== env.EMSG_DOMAIN) throw new EmsgError("bad_request", `${ref.hub} hosts that conversation, not this server.`);
      unwrap(await conversationOf(env, ref.ref).submit(item.from, item.deviceId, checkFraming(ref.ref, item.submit), now, false, item.authorProof ? { authorProof: item.authorProof } : undefined));
      return;
    }
    case "conv_veto": {
      mustBeFrom(from, item.from);
      const ref = parseConversationRef(item.conversation);
      if (ref.hub !== env.EMSG_DOMAIN) throw new EmsgError("bad_request", `${ref.hub} hosts that conversation, not this server.`);
      unwrap(await conversationOf(env, ref.ref).veto(item.from, item.deviceId, item.veto, now, false));
      return;
    }
    case "conv_rejoin": {
      // The member's server vouches for its device, as for a veto; the hub limits the account.
      mustBeFrom(from, item.from);
      const ref = parseConversationRef(item.conversation);
      if (ref.hub !== env.EMSG_DOMAIN) throw new EmsgError("bad_request", `${ref.hub} hosts that conversation, not this server.`);
      unwrap(await conversationOf(env, ref.ref).rejoin(item.from, item.deviceId, item.rejoin, now, false));
      return;
    }
    case "conv_deliver": {
      // The hub speaks for its conversation; the message's author may be on a third domain.
      if (parseConversationRef(item.conversation).hub !== from || item.item.conversation !== item.conversation) {
        throw new EmsgError("forbidden", `${from} is not the hub of ${item.conversation}.`);
      }
      for (const to of item.to) mustBeLocal(env, to);
      const users = item.to.filter((to) => batch.registered.has(to));
      // As an account's refusal would be, when the hub vouches for the author (see receiveLocally).
      if (users.length < item.to.length && domainOf(item.item.from) === from) {
        const { id: ref, from: author, conversation } = item.item;
        const unknown = item.to.filter((to) => !batch.registered.has(to));
        await Promise.all(unknown.map((to) => bounce(env, author, { ref, to, error: "not_found", conversation })));
      }
      // The hub's evidence for an author off its domain, checked by each account only if it must (§9).
      const claim: AuthorEvidence =
        item.authorProof || item.authorTicket ? { ...(item.authorProof ? { authorProof: item.authorProof } : {}), ...(item.authorTicket ? { authorTicket: item.authorTicket } : {}) } : NO_EVIDENCE;
      // Only the author's own account may leave out what its device was answered for (PROTOCOL §6).
      const own = item.answered === true && item.item.type === "application";
      const add = (to: Address) => batch.deliveries.add(batch.index, to, item.item, claim, own && to === item.item.from);
      // Nearly every item is for one account: its answer is awaited alone.
      if (users.length === 1) return add(users[0]!);
      return (await Promise.all(users.map(add))).find((sole) => sole !== null);
    }
    case "moved":
    case "deleted": {
      const subject = item.kind === "moved" ? item.signed.body.from : item.signed.body.address;
      mustBeFrom(from, subject);
      for (const to of item.to) mustBeLocal(env, to);
      const users = item.to.filter((to) => batch.registered.has(to));
      if (users.length === 0) throw new EmsgError("not_found", "None of the recipients is an account here.");
      // Each recipient checks the notice against the key it pinned for the sender; the item
      // fails only when no recipient took it.
      const outcomes = await Promise.all(users.map((to) => accountOf(env, to).receiveNotice(item.kind, item.signed, now)));
      const refusal = outcomes.find((o) => !o.ok);
      if (refusal && outcomes.every((o) => !o.ok)) unwrap(refusal);
      return;
    }
    case "bounce": {
      mustBeUser(env, batch, item.sender);
      const { ref, to, error, conversation } = item;
      if (!mayBounce(from, to, conversation)) throw new EmsgError("forbidden", `${from} was not asked to deliver that item, so it cannot bounce it.`);
      unwrap(await accountOf(env, item.sender).deliver({ kind: "bounce", ref, to, error, ...(conversation ? { conversation } : {}) }));
      return;
    }
  }
}
