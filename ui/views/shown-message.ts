import { useEffect } from "preact/hooks";
import type { ConversationViewModel } from "../view-models/conversation-model.js";
import type { TimelineFollow } from "./timeline-follow.js";

/** Scrolls to the message a tapped quote named (see ConversationViewModel.showMessage), once each tap. */
export function useShownMessage(conversation: ConversationViewModel, follow: TimelineFollow): void {
  const shown = conversation.shownMessage;
  useEffect(() => {
    if (shown) follow.show(document.querySelector(`[data-message-id="${CSS.escape(shown.id)}"]`));
  }, [shown?.seq]);
}
