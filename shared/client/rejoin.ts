import type { Address } from "../address.js";
import { EmsgError, RETRYABLE } from "../errors.js";
import { randomId16 } from "../ids.js";
import type { DeviceCertBody } from "../identity.js";
import { certOfLeaf } from "../mls/credential.js";
import { sealOfState } from "../mls/commit-seal.js";
import { readdMember } from "../mls/group.js";
import { asClient, type GroupState, isActive, membersOfTree } from "../mls/group-state.js";
import { parseKeyPackage } from "../mls/keypackage.js";
import { decodeGroupState } from "../mls/state-codec.js";
import { toB64u } from "../base64url.js";
import { ClaimResponseSchema } from "../wire/account.js";
import { type ConvPayload, SubmitAcceptedSchema } from "../wire/conversation.js";
import type { CoreContext } from "./context.js";
import { type ConversationRecord, loadConversation, saveConversation } from "./conversation-record.js";
import { keyFor } from "./conversation-trust.js";
import { hubPath } from "./conversations.js";
import { checkListed } from "./device-lists.js";
import { addNotice } from "./group-changes.js";
import { deleteMessage, findMessage } from "./messages.js";
import { commitToHub, pendingCommit, sendPendingCommit } from "./own-commits.js";

/**
 * Rejoining (PROTOCOL §8): a device left behind its group for good (its veto refused: another
 * account committed on top, or its account's vetoes ran out) asks the hub to be let back in; the hub
 * orders a `rejoin` entry, and an in-step member device commits the removal of the device's old leaf
 * with the add of a fresh KeyPackage of that same device, checked as any add. The device takes the
 * Welcome in place of its old group; what was sent at the epochs it missed stays unread, and says so.
 */

/** How long an ask waits for a member to act before it is made again (members offline, say). */
export const REJOIN_AGAIN_MS = 30 * 60_000;
/** How long members other than the chosen one wait before they re-add a device themselves. */
export const READD_DELAY_MS = 2 * 60_000;

interface Ask {
  conversation: string;
  id: string;
  /** When the hub (or our own server, for a remote hub) took it. */
  asked?: number;
}

/** A device to let back in, by this device once `due`: `leaf` is the old leaf's HPKE key, to know it was replaced. */
interface Readd {
  conversation: string;
  address: Address;
  deviceId: string;
  leaf: string;
  due: number;
}

const askKey = (conversation: string) => `rejoinAsk/${conversation}`;
const sentKey = (id: string) => `rejoinSent/${id}`;
const readdKey = (conversation: string, deviceId: string) => `readd/${conversation}/${deviceId}`;

/**
 * This device cannot catch up with the group (`record.unsafe` says why): it stops reading and
 * sending there and asks to be let back in. What it queues meanwhile waits (waitsToRejoin); a veto
 * still waiting is moot.
 */
export async function askToRejoin(ctx: CoreContext, record: ConversationRecord): Promise<void> {
  await saveConversation(ctx, { ...record, rejoin: { stuck: true } });
  await ctx.store.put(askKey(record.conversation), { conversation: record.conversation, id: randomId16() } satisfies Ask);
  await ctx.store.delete(`veto/${record.conversation}`);
}

/** Whether what is queued for `conversation` waits for this device to be let back in. */
export async function waitsToRejoin(ctx: Pick<CoreContext, "store">, conversation: string): Promise<boolean> {
  return (await loadConversation(ctx, conversation))?.rejoin?.stuck === true;
}

/**
 * Sends the asks waiting, and asks again one that no member answered in REJOIN_AGAIN_MS (under a new
 * id: the hub answers a repeated id with its first position). A hub's refusal ends it (rejoinRefused).
 */
export async function sendRejoins(ctx: CoreContext): Promise<void> {
  const now = ctx.clock.now();
  for (const [key, ask] of await ctx.store.list<Ask>("rejoinAsk/")) {
    if (ask.asked !== undefined && now - ask.asked < REJOIN_AGAIN_MS) continue;
    const record = await loadConversation(ctx, ask.conversation);
    if (!record?.rejoin?.stuck) {
      await ctx.store.delete(key);
      continue;
    }
    const id = ask.asked === undefined ? ask.id : randomId16();
    await ctx.store.put(sentKey(id), ask.conversation);
    try {
      await ctx.api.call("POST", `${hubPath(ask.conversation)}/rejoin`, { id, epoch: record.epoch }, SubmitAcceptedSchema);
      await ctx.store.put(key, { ...ask, id, asked: now } satisfies Ask);
    } catch (error) {
      if (!(error instanceof EmsgError)) throw error;
      // Asked too often lately: asked again later, not at every send.
      if (error.code === "rate_limited") await ctx.store.put(key, { ...ask, id, asked: now } satisfies Ask);
      if (RETRYABLE.has(error.code)) continue;
      await rejoinRefused(ctx, id, ask.conversation, error.message);
    }
  }
}

/**
 * Whether `ref` is an ask of this device's that the hub of `conversation` refused (at once, or for a remote hub as a
 * bounce): it stays behind the group, which the conversation says.
 */
export async function rejoinRefused(ctx: CoreContext, ref: string, conversation: string, why: string): Promise<boolean> {
  if ((await ctx.store.get<string>(sentKey(ref))) !== conversation) return false;
  await ctx.store.delete(sentKey(ref));
  await ctx.store.delete(askKey(conversation));
  const record = await loadConversation(ctx, conversation);
  if (record?.rejoin?.stuck) {
    const { rejoin: _rejoin, ...rest } = record;
    await saveConversation(ctx, { ...rest, unsafe: `This device is out of step with the conversation, and the server would not let it back in (${why}).` });
  }
  return true;
}

/** The leaf of `deviceId` in the group's tree: its certificate and HPKE key. */
function leafOf(state: GroupState, deviceId: string): { body: DeviceCertBody; key: string } | undefined {
  const tree = asClient(state).ratchetTree;
  const member = membersOfTree(tree).find((m) => m.body.deviceId === deviceId);
  const node = member && tree[member.leafIndex * 2];
  return node?.nodeType === "leaf" ? { body: member!.body, key: toB64u(node.leaf.hpkePublicKey) } : undefined;
}

/**
 * A `rejoin` entry: a member device asks to be let back in. Only a device in our tree, of the
 * account the hub names, is re-added. So that the group does not get a commit from every member,
 * one device acts at once: the first in leaf order of the asking account's other devices, or with
 * none, of everyone else's; the others after READD_DELAY_MS, if it was not re-added by then. The
 * entry is the hub's word: a forged one costs a device that was in step a remove and re-add.
 */
export async function readRejoin(ctx: CoreContext, record: ConversationRecord, item: ConvPayload): Promise<void> {
  if (item.mls !== "") throw new EmsgError("bad_request", "An ask to rejoin carries no message.");
  if (item.deviceId === ctx.account.deviceId || record.left || record.rejoin) return;
  const state = await decodeGroupState(record.group);
  const leaf = leafOf(state, item.deviceId);
  if (!isActive(state) || !leaf || leaf.body.address !== item.from) return;
  const others = membersOfTree(asClient(state).ratchetTree).filter((m) => m.body.deviceId !== item.deviceId);
  const own = others.filter((m) => m.body.address === item.from);
  const first = (own.length > 0 ? own : others)[0]?.body.deviceId === ctx.account.deviceId;
  const job: Readd = { conversation: record.conversation, address: item.from, deviceId: item.deviceId, leaf: leaf.key, due: first ? 0 : item.at + READD_DELAY_MS };
  await ctx.store.put(readdKey(record.conversation, item.deviceId), job);
}

/**
 * A fresh KeyPackage of the very device `old` is (same account key, address and device id, hence
 * the same device key), one its home server still lists: a rejoin never lets a server slip in a new
 * device or another account. Null when the device has none left.
 */
async function claimSameDevice(ctx: CoreContext, old: DeviceCertBody): Promise<string | null> {
  const held = await keyFor(ctx, old.address);
  if (held !== undefined && held !== old.accountKey) throw new EmsgError("unauthorized", `Device ${old.deviceId} is not certified by the key held for ${old.address}.`);
  const claim = await ctx.api.call("POST", "/directory/claim", { address: old.address }, ClaimResponseSchema);
  if (claim.accountKey !== old.accountKey) throw new EmsgError("unauthorized", `The server offered keys for ${old.address} that are not the ones of its device in this conversation.`);
  const offered = claim.devices.find((d) => d.deviceCert.body.deviceId === old.deviceId);
  if (!offered) throw new EmsgError("unauthorized", `Device ${old.deviceId} is no longer one of ${old.address}'s devices.`);
  if (offered.keyPackage === null) return null;
  const { leafNode } = parseKeyPackage(offered.keyPackage);
  const { body } = certOfLeaf(leafNode.credential, leafNode.signaturePublicKey);
  if (body.address !== old.address || body.accountKey !== old.accountKey || body.deviceId !== old.deviceId) {
    throw new EmsgError("unauthorized", `The KeyPackage offered to let device ${old.deviceId} of ${old.address} back in is another device's.`);
  }
  await checkListed(ctx, [body], () => old.accountKey);
  return offered.keyPackage;
}

/** "waits": a commit of ours waits for a remote hub's answer; the job looks again once it came (a lost race leaves the leaf as it was). */
type Step = "done" | "retry" | "later" | "waits";

async function readdStep(ctx: CoreContext, job: Readd): Promise<Step> {
  const record = await loadConversation(ctx, job.conversation);
  if (!record || record.left || record.unsafe || record.rejoin) return "done";
  const pending = await pendingCommit(ctx, job.conversation);
  // Sent again only when its answer was lost: one our server holds for a remote hub is answered through the mailbox.
  if (pending?.forwarded) return "waits";
  if (pending) return (await sendPendingCommit(ctx, pending)) === "forwarded" ? "waits" : "retry";
  const state = await decodeGroupState(record.group);
  const leaf = leafOf(state, job.deviceId);
  // Gone from the group, or re-added (or in step after all) already: its leaf is not the one that asked.
  if (!isActive(state) || !leaf || leaf.body.address !== job.address || leaf.key !== job.leaf) return "done";
  const keyPackage = await claimSameDevice(ctx, leaf.body);
  if (keyPackage === null) return "later";
  const made = await readdMember(state, job.deviceId, keyPackage);
  // Naming the account (a member already) sends the Welcome to its devices (PROTOCOL §6).
  const answer = await commitToHub(ctx, record, made, { add: [job.address], remove: [] });
  return answer === "ordered" ? "done" : answer === "forwarded" ? "waits" : "retry";
}

/** Lets back in the devices whose turn it is; a commit that lost the race is made again after catching up. */
export async function runReadds(ctx: CoreContext, catchUp: () => Promise<void>): Promise<void> {
  for (const [key, job] of await ctx.store.list<Readd>("readd/")) {
    if (ctx.clock.now() < job.due) continue;
    let outcome: Step = "retry";
    for (let attempt = 0; attempt < 3 && outcome === "retry"; attempt++) {
      if (attempt > 0) await catchUp();
      try {
        outcome = await readdStep(ctx, job);
      } catch (error) {
        if (!(error instanceof EmsgError) || RETRYABLE.has(error.code)) throw error;
        console.warn(`emsg: device ${job.deviceId} of ${job.address} was not let back into ${job.conversation}: ${error.message}`);
        outcome = "done";
      }
    }
    if (outcome === "done") await ctx.store.delete(key);
  }
}

/**
 * A commit removed this device and added it again (its device id back in the tree): it is let back
 * in, and takes the Welcome that follows, into the roster the commit left, as its group.
 */
export function readdedBy(record: ConversationRecord, state: GroupState, deviceId: string, members: Address[], commit: string): ConversationRecord | undefined {
  if (isActive(state) || !membersOfTree(asClient(state).ratchetTree).some((m) => m.body.deviceId === deviceId)) return undefined;
  return { ...record, rejoin: { commit, members, seal: sealOfState(state) } };
}

/**
 * After the Welcome that let this device back in: the ask is answered, and what it missed is said.
 * A device that was in step lost nothing: the commit it could not process was its re-add, which
 * it neither vetoes nor reports as unreadable.
 */
export async function rejoinedBy(ctx: CoreContext, before: ConversationRecord, item: ConvPayload): Promise<void> {
  const ask = await ctx.store.get<Ask>(askKey(before.conversation));
  if (ask) {
    await ctx.store.delete(sentKey(ask.id));
    await ctx.store.delete(askKey(before.conversation));
  }
  if (before.rejoin?.stuck) {
    await addNotice(ctx, before.conversation, item.id, item.at, { type: "rejoined", by: ctx.account.address });
    return;
  }
  await ctx.store.delete(`veto/${before.conversation}`);
  const reported = await findMessage(ctx, item.id);
  if (reported?.notice?.type === "unreadable") await deleteMessage(ctx, reported);
}
