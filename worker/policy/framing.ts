import { EmsgError } from "../../shared/errors.js";
import { inspectMessage, inspectWelcome } from "../../shared/mls/inspect.js";
import type { ConversationRef, Submit } from "../../shared/wire/conversation.js";

/** A Submit whose MLS framing agrees with it (checkFraming): the only kind a hub orders. */
export type FramedSubmit = Submit & { readonly __framed: true };

/**
 * What a hub reads of a Submit's MLS before ordering it (PROTOCOL §6, §8): its message is a
 * PrivateMessage of this conversation whose cleartext header carries the Submit's epoch and kind,
 * and a Welcome, which only a commit may carry, is an MLS Welcome in the EMSG suite. Only the
 * header is read (no crypto), so this runs before the hub's queue at a few microseconds a Submit.
 * Whether the ciphertext is what the header says only members can tell (§8).
 */
export function checkFraming(conversation: ConversationRef, submit: Submit): FramedSubmit {
  const header = inspectMessage(submit.mls);
  if (header.conversation !== conversation) throw new EmsgError("bad_request", "The message belongs to another conversation.");
  if (header.type !== submit.kind) throw new EmsgError("bad_request", `The message is a ${header.type}, not a ${submit.kind}.`);
  if (header.epoch !== submit.epoch) throw new EmsgError("bad_request", `The message is of epoch ${header.epoch}, not ${submit.epoch}.`);
  if (submit.welcome !== undefined) {
    if (submit.kind !== "commit") throw new EmsgError("bad_request", "Only a commit may carry a Welcome.");
    inspectWelcome(submit.welcome);
  }
  return submit as FramedSubmit;
}
