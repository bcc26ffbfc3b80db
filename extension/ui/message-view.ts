import type { Address } from "../../shared/address.js";
import type { Translate } from "../../ui/i18n/translate.js";
import type { TimelineMessage } from "../../ui/view-models/timeline.js";
import type { MessageView } from "../messaging/messages.js";

/** A message as the shared timeline takes it; `byId` finds the message a reply quotes. */
export function timelineMessage(m: MessageView, t: Translate, byId: ReadonlyMap<string, MessageView> = new Map()): TimelineMessage {
  const quoted = m.replyTo === undefined ? undefined : byId.get(m.replyTo);
  return {
    id: m.id,
    mine: m.mine,
    text: m.text,
    at: m.at,
    status: m.status === "received" ? null : m.status === "delivered" && m.read ? "read" : m.status,
    starred: false,
    from: m.from as Address,
    ...(m.notice ? { notice: m.notice } : {}),
    ...(m.edited ? { edited: true } : {}),
    ...(m.deleted ? { deleted: true } : {}),
    ...(m.replyTo === undefined ? {} : { quote: { id: m.replyTo, author: quoted ? (quoted.mine ? t("conv.you") : quoted.from) : "", text: quoted ? (quoted.deleted ? t("conv.deleted") : quoted.text) : null } }),
    ...(m.reactions ? { reactions: m.reactions.map((r) => ({ ...r, mine: false, by: "" })) } : {}),
  };
}
