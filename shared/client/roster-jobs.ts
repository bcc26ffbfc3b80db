import type { Address } from "../address.js";
import type { CoreContext } from "./context.js";
import type { PendingCommit } from "./own-commits.js";

/**
 * A change of who is in a group that this device still owes (PROTOCOL §12): asked for while a commit
 * of ours waited for a remote hub's answer (one commit at a time: the next is made from the state the
 * answer leaves), or a commit of ours that the hub refused because another member's came first. It
 * is made (groups.ts, runRosterJobs) once the conversation is past epoch `after` and no commit of
 * ours waits, from the state then: who is already in needs no add, who is already gone no removal.
 */
export interface RosterJob {
  conversation: string;
  after: number;
  add: Address[];
  remove: Address[];
}

/** Kept in the order they were asked for: made one after the other. */
let lastQueued = 0;
const jobKey = (now: number) => `rosterjob/${String(now).padStart(15, "0")}-${String(++lastQueued).padStart(12, "0")}`;

export function queueRosterJob(ctx: Pick<CoreContext, "store" | "clock">, job: RosterJob): Promise<void> {
  return ctx.store.put(jobKey(ctx.clock.now()), job);
}

export function rosterJobs(ctx: Pick<CoreContext, "store">): Promise<Array<[string, RosterJob]>> {
  return ctx.store.list<RosterJob>("rosterjob/");
}

/**
 * A remote hub refused a commit of ours as `stale_epoch` (its bounce): the people it added or removed
 * are added or removed again from the epoch that beat it. A commit that names only members (a device
 * of ours, a re-add) asks nothing of the job: those are their own jobs' to make again (device-jobs, rejoin).
 */
export async function redoRoster(ctx: Pick<CoreContext, "store" | "clock">, refused: PendingCommit): Promise<void> {
  const { add = [], remove = [] } = refused.submit.roster ?? {};
  if (add.length === 0 && remove.length === 0) return;
  await queueRosterJob(ctx, { conversation: refused.conversation, after: refused.submit.epoch, add, remove });
}
