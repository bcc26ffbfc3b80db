import type { Translate } from "../i18n/translate.js";
import type { ConversationViewModel } from "../view-models/conversation-model.js";
import { Icon } from "./icons.js";

/** A message's star: pressed, the message is kept among the favorites (a copy, so it outlives expiry). */
export function StarButton({ id, starred, conversation, t }: { id: string; starred: boolean; conversation: ConversationViewModel; t: Translate }) {
  return (
    <button type="button" class="icon star" aria-pressed={starred} aria-label={starred ? t("conv.unstar") : t("conv.star")} onClick={() => void conversation.toggleStar(id)}>
      <Icon name="star" size={14} filled={starred} />
    </button>
  );
}
