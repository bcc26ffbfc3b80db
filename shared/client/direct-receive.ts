import { EmsgError } from "../errors.js";
import { processMessage } from "../mls/receive.js";
import { decodeGroupState, encodeGroupState } from "../mls/state-codec.js";
import type { DirectFrame } from "../wire/frames.js";
import type { CoreContext } from "./context.js";
import { loadConversation, saveConversation } from "./conversation-record.js";
import { readDirectly, rememberDirect } from "./direct-copies.js";
import { type ConvOutcome, readApplication } from "./incoming-conv.js";

/**
 * Reads a message that came over a direct channel from the device `from` (`ADDRESS/DEVICEID`).
 * Only an application message that this device can read now, sent by that very device, is taken:
 * anything else (a handshake, an epoch not reached yet, a duplicate) is left for the hub's copy,
 * which always follows, so hub order still decides everything that changes the group.
 */
export async function applyDirectCopy(ctx: CoreContext, frame: DirectFrame, from: string): Promise<ConvOutcome> {
  const record = await loadConversation(ctx, frame.conversation);
  if (!record || record.unsafe || readDirectly(record, frame.mls)) return {};
  let processed;
  try {
    processed = await processMessage(await decodeGroupState(record.group), frame.mls);
  } catch (error) {
    if (error instanceof EmsgError) return {};
    throw error;
  }
  if (processed.kind !== "application" || `${processed.sender.address}/${processed.sender.deviceId}` !== from) return {};
  const read = rememberDirect({ ...record, group: encodeGroupState(processed.state) }, frame.mls);
  const { record: next, outcome } = await readApplication(ctx, read, processed);
  // Announced like a hub item would be: a rename or a leave read here first changes the chat's
  // header and list now, since its hub copy is then only marked applied.
  const changed = next.last?.id !== record.last?.id || next.last?.text !== record.last?.text || next.unread !== record.unread || next.title !== record.title || next.kind !== record.kind || next.left !== record.left;
  await saveConversation(ctx, next, changed);
  return outcome;
}
