import type { Address } from "../address.js";
import type { GroupContent, LeaveContent } from "../content.js";
import type { Submit } from "../wire/conversation.js";
import type { CoreContext } from "./context.js";
import type { ConversationRecord } from "./conversation-record.js";
import { findMessage, type GroupNotice, type MessageRecord, saveMessage, SENT_AHEAD_MS } from "./messages.js";

/**
 * What a device makes of changes to a group (PROTOCOL §12): its name, who joined, who was removed,
 * who left. Each change is kept in the group's history as a notice, under an id every device
 * derives the same way (the commit's Submit id, or the content's id), so none is shown twice.
 */

/** Keeps a notice once; the message made, or undefined when it was already there. */
export async function addNotice(ctx: CoreContext, conversation: string, id: string, at: number, notice: GroupNotice): Promise<MessageRecord | undefined> {
  if (await findMessage(ctx, id)) return undefined;
  const mine = notice.by === ctx.account.address;
  const message: MessageRecord = {
    id, conversation, from: notice.by, direction: mine ? "out" : "in", text: "", at, status: mine ? "sent" : "received", notice,
  };
  await saveMessage(ctx, message);
  ctx.events.emit("message", message);
  return message;
}

/** A record known to be a group: a 1:1 `peer` no longer applies. */
export function asGroup(record: ConversationRecord): ConversationRecord {
  const { peer: _peer, peerKey: _peerKey, ...rest } = record;
  return { ...rest, kind: "group" };
}

/**
 * A commit by `by` took the roster from `record.members` to `after` (`record.epoch` is the epoch it
 * made). Members who had said they leave were shown as leaving then; their removal is not shown again.
 */
export async function noticeRosterChange(
  ctx: CoreContext,
  record: ConversationRecord,
  after: readonly Address[],
  change: { by: Address; id: string; at: number },
): Promise<ConversationRecord> {
  const leaving = record.leaving ?? [];
  const next = { ...record, members: [...after] };
  // The hub's clock (ours for our own commit), believed as a sender's is: a hub's time to come would date what follows.
  const at = Math.min(change.at, ctx.clock.now() + SENT_AHEAD_MS);
  if (leaving.length > 0) next.leaving = leaving.filter((a) => after.includes(a));
  if (record.kind !== "group") return next;
  const added = after.filter((a) => !record.members.includes(a));
  const removed = record.members.filter((a) => !after.includes(a) && !leaving.includes(a));
  if (added.length > 0 || record.members.some((a) => !after.includes(a))) next.rosterChange = { epoch: record.epoch, at };
  if (added.length > 0) await addNotice(ctx, record.conversation, change.id, at, { type: "added", by: change.by, who: added });
  if (removed.length > 0) {
    const id = added.length > 0 ? `${change.id}.removed` : change.id;
    await addNotice(ctx, record.conversation, id, at, { type: "removed", by: change.by, who: removed });
  }
  return next;
}

/**
 * A commit of ours that the hub ordered (`submit`, made at `at`): its `roster` is who is in the group
 * now, the hub's way (remove first, then add), and the notice of it is ours. Shown only once the hub
 * ordered it: through a remote hub, a commit another member's beat is refused, and made again.
 */
export function ownRosterOrdered(ctx: CoreContext, record: ConversationRecord, submit: Submit, at: number): Promise<ConversationRecord> {
  const { add = [], remove = [] } = submit.roster ?? {};
  const kept = record.members.filter((a) => !remove.includes(a));
  const after = [...kept, ...add.filter((a) => !kept.includes(a))];
  return noticeRosterChange(ctx, record, after, { by: ctx.account.address, id: submit.id, at });
}

/** A group's name from `sender`: the newest one wins; a change of a name already known is a notice. */
export async function readTitle(ctx: CoreContext, record: ConversationRecord, content: GroupContent, sender: Address): Promise<ConversationRecord> {
  // A time to come is its sender's word only: taken as is, no later rename would ever hold.
  const sentAt = Math.min(content.sentAt, ctx.clock.now());
  const { titleToLearn, ...rest } = record;
  if (!titleToLearn && record.titleAt !== undefined && record.titleAt > sentAt) return asGroup(record);
  if (!titleToLearn && record.title !== undefined && record.title !== content.title) {
    await addNotice(ctx, record.conversation, content.id, sentAt, { type: "renamed", by: sender, title: content.title });
  }
  return { ...asGroup(rest), title: content.title, titleAt: sentAt };
}

/**
 * `sender` leaves the group. Our own account leaving (from another of its devices) ends sending
 * here too; someone else leaving is remembered, so this device commits their removal.
 */
export async function readLeave(
  ctx: CoreContext,
  record: ConversationRecord,
  leave: LeaveContent,
  sender: Address,
  hubSeq: number | undefined,
): Promise<ConversationRecord> {
  if (record.kind !== "group") return record;
  await addNotice(ctx, record.conversation, leave.id, leave.sentAt, { type: "left", by: sender });
  if (sender === ctx.account.address) return { ...record, left: true, leaveId: leave.id, ...(hubSeq === undefined ? {} : { leftAt: hubSeq }) };
  const leaving = record.leaving ?? [];
  return record.members.includes(sender) && !leaving.includes(sender) ? { ...record, leaving: [...leaving, sender] } : record;
}
