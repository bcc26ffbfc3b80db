import { EmsgError } from "../../shared/errors.js";
import type { Address } from "../../shared/address.js";
import type { Submit } from "../../shared/wire/conversation.js";

/** What a hub knows when it judges a submission (PROTOCOL §6, §8, §12). */
export interface HubState {
  epoch: number;
  members: readonly Address[];
  /** The highest epoch a veto's withdrawal left (PROTOCOL §8, Vetoes), if one did. */
  withdrawn?: number | undefined;
}

/** The hub's next state after accepting `submit`, or the typed refusal. Pure. */
export function judgeSubmit(hub: HubState, from: Address, submit: Submit): HubState {
  if (!hub.members.includes(from)) throw new EmsgError("forbidden", "Only current members may write to this conversation.");
  if (submit.kind === "application") {
    // Sent at the epoch of a withdrawn commit: its sender reads the withdrawal and sends it again.
    if (hub.withdrawn !== undefined && submit.epoch <= hub.withdrawn && submit.epoch > hub.epoch) throw new EmsgError("stale_epoch", `Epoch ${submit.epoch} was withdrawn; the conversation is at ${hub.epoch}.`);
    if (submit.epoch > hub.epoch) throw new EmsgError("bad_request", `Epoch ${submit.epoch} is ahead of the hub's ${hub.epoch}.`);
    // Only the current epoch: a device that a commit removed cannot read what is sent after it,
    // and one it added can read everything sent after it.
    if (submit.epoch < hub.epoch) throw new EmsgError("stale_epoch", `The conversation is at epoch ${hub.epoch}, not ${submit.epoch}.`);
    if (submit.roster || submit.welcome) throw new EmsgError("bad_request", "Only a commit may change the roster or carry a Welcome.");
    return hub;
  }
  if (submit.epoch !== hub.epoch) throw new EmsgError("stale_epoch", `The conversation is at epoch ${hub.epoch}, not ${submit.epoch}.`);
  if (submit.kind === "proposal") {
    if (submit.roster || submit.welcome) throw new EmsgError("bad_request", "Only a commit may change the roster or carry a Welcome.");
    return hub;
  }
  return { epoch: hub.epoch + 1, members: nextRoster(hub.members, submit) };
}

function nextRoster(members: readonly Address[], submit: Submit): Address[] {
  const add = submit.roster?.add ?? [];
  const remove = submit.roster?.remove ?? [];
  if (add.some((a) => remove.includes(a))) throw new EmsgError("bad_request", "An address cannot be added and removed at once.");
  for (const a of remove) if (!members.includes(a)) throw new EmsgError("bad_request", `${a} is not a member.`);
  const next = members.filter((m) => !remove.includes(m));
  for (const a of add) if (!next.includes(a)) next.push(a);
  if (next.length === 0) throw new EmsgError("bad_request", "A conversation cannot lose every member.");
  return next;
}

/** Who receives an accepted submission: everyone before and after it, so the removed learn of it. */
export function recipientsOf(before: readonly Address[], after: readonly Address[]): Address[] {
  return [...new Set([...before, ...after])];
}

/** Who receives the Welcome of a commit: the accounts it adds, or every member when it names none. */
export function welcomeRecipients(after: readonly Address[], submit: Submit): Address[] {
  const add = submit.roster?.add ?? [];
  return add.length > 0 ? [...add] : [...after];
}
