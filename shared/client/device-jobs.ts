import { EmsgError, RETRYABLE } from "../errors.js";
import { type DeviceCert, verifyDeviceCert } from "../identity.js";
import { addMembers, removeMembers } from "../mls/group.js";
import { isActive, membersOf } from "../mls/group-state.js";
import { decodeGroupState } from "../mls/state-codec.js";
import { ClaimResponseSchema } from "../wire/account.js";
import type { CoreContext } from "./context.js";
import { type ConversationRecord, loadConversation } from "./conversation-record.js";
import { repeatTitle } from "./groups.js";
import { type CommitAnswer, commitToHub, pendingCommit, sendPendingCommit } from "./own-commits.js";

/**
 * Bringing the account's conversations in line with its devices (PROTOCOL §6, device links): the
 * device that made a link adds the new device to every MLS group it is in, and the device that
 * removes another takes it out of them. Jobs are stored, so they survive restarts and go on
 * after a `stale_epoch` or an outage; each group is checked first, so a job is never done twice.
 */
export interface DeviceJob {
  kind: "add" | "remove";
  deviceId: string;
}

const jobKey = (deviceId: string) => `devjob/${deviceId}`;
const linkKey = (id: string) => `link/${id}`;

/** A link this device made: a `device_added` naming it is this device's to act on. Expired ones are forgotten. */
export async function rememberLink(ctx: Pick<CoreContext, "store">, id: string, expires: number, now: number): Promise<void> {
  for (const [key, link] of await ctx.store.list<{ expires: number }>("link/")) {
    if (link.expires < now) await ctx.store.delete(key);
  }
  await ctx.store.put(linkKey(id), { id, expires });
}

/**
 * A device joined the account. Its certificate must verify under our own account key: a server
 * cannot slip a device of its own into our conversations. Returns whether this device will add it.
 */
export async function onDeviceAdded(ctx: CoreContext, deviceCert: DeviceCert, link: string | undefined): Promise<boolean> {
  const body = verifyDeviceCert(deviceCert, { address: ctx.account.address, accountKey: ctx.account.accountPublicKey });
  ctx.events.emit("devices", { change: "added", deviceId: body.deviceId });
  if (body.deviceId === ctx.account.deviceId || !link || !(await ctx.store.get(linkKey(link)))) return false;
  await ctx.store.put(jobKey(body.deviceId), { kind: "add", deviceId: body.deviceId } satisfies DeviceJob);
  await ctx.store.delete(linkKey(link));
  return true;
}

export function queueRemoval(ctx: Pick<CoreContext, "store">, deviceId: string): Promise<void> {
  return ctx.store.put(jobKey(deviceId), { kind: "remove", deviceId } satisfies DeviceJob);
}

/** The new device's KeyPackage from a claim of our own address; null when it has none left, "gone" when it left. */
async function claimDevice(ctx: CoreContext, deviceId: string): Promise<string | null | "gone"> {
  const { address, accountPublicKey } = ctx.account;
  const claim = await ctx.api.call("POST", "/directory/claim", { address }, ClaimResponseSchema);
  if (claim.accountKey !== accountPublicKey) throw new EmsgError("unauthorized", "The server offered another account key for this account.");
  for (const { deviceCert, keyPackage } of claim.devices) {
    if (verifyDeviceCert(deviceCert, { address, accountKey: accountPublicKey }).deviceId === deviceId) return keyPackage;
  }
  return "gone";
}

/** "waits": a commit of ours waits for a remote hub's answer in that group; the job looks again once it came. */
type Step = "done" | "later" | "retry" | "gone" | "waits";

/** What a commit's answer leaves the job: one a remote hub may still refuse is done only once it is ordered. */
const stepOf = (answer: CommitAnswer): Step => (answer === "ordered" ? "done" : answer === "forwarded" ? "waits" : "retry");

/** One group, one device: commit the add or remove unless the group already agrees. */
async function step(ctx: CoreContext, record: ConversationRecord, job: DeviceJob): Promise<Step> {
  const pending = await pendingCommit(ctx, record.conversation);
  // Sent again only when its answer was lost: one our server holds for a remote hub is answered through the mailbox.
  if (pending?.forwarded) return "waits";
  if (pending) return (await sendPendingCommit(ctx, pending)) === "forwarded" ? "waits" : "retry";
  const state = await decodeGroupState(record.group);
  // A group this account left is no place for a new device, and its removal takes every device;
  // one stopped at a refused commit (`unsafe`) takes no commit of ours.
  if (!isActive(state) || record.left || record.unsafe) return "done";
  const present = membersOf(state).some((m) => m.deviceId === job.deviceId);
  if (present === (job.kind === "add")) return "done";
  if (job.kind === "remove") {
    return stepOf(await commitToHub(ctx, record, await removeMembers(state, [job.deviceId])));
  }
  const keyPackage = await claimDevice(ctx, job.deviceId);
  if (keyPackage === "gone") return "gone";
  if (keyPackage === null) return "later";
  // Naming our own account (already a member) sends the Welcome to its devices only (PROTOCOL §6).
  const roster = { add: [ctx.account.address], remove: [] };
  const answer = await commitToHub(ctx, record, await addMembers(state, [keyPackage]), roster);
  if (answer !== "stale") await repeatTitle(ctx, record);
  return stepOf(answer);
}

/** Runs one job over every conversation; true when it is complete. */
async function runJob(ctx: CoreContext, job: DeviceJob, catchUp: () => Promise<void>): Promise<boolean> {
  let complete = true;
  for (const [, listed] of await ctx.store.list<ConversationRecord>("conv/")) {
    let outcome: Step = "retry";
    // A stale epoch or a pending commit just sent: read what the hub has, then look again.
    for (let attempt = 0; attempt < 3 && outcome === "retry"; attempt++) {
      if (attempt > 0) await catchUp();
      const record = await loadConversation(ctx, listed.conversation);
      if (!record) break;
      try {
        outcome = await step(ctx, record, job);
      } catch (error) {
        if (!(error instanceof EmsgError) || RETRYABLE.has(error.code)) throw error;
        console.warn(`emsg: ${job.kind} of device ${job.deviceId} in ${record.conversation} failed: ${error.message}`);
        outcome = "done";
      }
    }
    if (outcome === "gone") return true;
    if (outcome !== "done") complete = false;
    if (outcome === "later") break;
  }
  return complete;
}

/** Works through the stored jobs; what cannot finish now stays for the next call. */
export async function runDeviceJobs(ctx: CoreContext, catchUp: () => Promise<void>): Promise<void> {
  for (const [key, job] of await ctx.store.list<DeviceJob>("devjob/")) {
    if (await runJob(ctx, job, catchUp)) await ctx.store.delete(key);
  }
}
