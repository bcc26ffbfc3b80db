import type { RefObject } from "preact";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { Translate } from "../i18n/translate.js";
import type { ConversationViewModel } from "../view-models/conversation-model.js";
import type { TimelineFollow } from "./timeline-follow.js";

/**
 * Tells the conversation whether its newest message is on screen, so it is marked read (and a
 * `read` receipt sent) only then; a timeline no longer drawn (another tab, the group's details)
 * sees nothing.
 */
export function useReadWhenSeen(conversation: ConversationViewModel, follow: TimelineFollow): void {
  useEffect(() => {
    conversation.seeNewest(follow.seeing);
    return () => conversation.seeNewest(false);
  }, [conversation, follow.seeing]);
}

/**
 * A chat opened with unread messages opens at the first of them, under the line that says how many
 * (`data-testid="unread-line"`), when they are more than its screen shows; it is then not read
 * until the person scrolls down to the newest, and the jump button counts them. Once a chat, as
 * its history is first drawn.
 */
export function useUnreadStart(conversation: ConversationViewModel, follow: TimelineFollow): void {
  const placed = useRef<ConversationViewModel | null>(null);
  useLayoutEffect(() => {
    if (!conversation.loaded || placed.current === conversation) return;
    placed.current = conversation;
    if (conversation.unreadStart && follow.startAt(document.querySelector('[data-testid="unread-line"]'))) conversation.openedAtUnread();
  }, [conversation, conversation.loaded]);
}

/**
 * Shown while the person reads further up: takes them to the newest message, with how many came
 * meanwhile. Put right after the timeline, it floats over the timeline's bottom corner. It goes once
 * used: the keyboard's focus goes to the message box (`field`), ready for an answer, not to the page.
 */
export function JumpToNewest({ conversation, follow, field, t }: { conversation: ConversationViewModel; follow: TimelineFollow; field: RefObject<HTMLTextAreaElement>; t: Translate }) {
  if (follow.atNewest) return null;
  const count = conversation.newBelow;
  const label = count > 0 ? t("conv.jumpNewestCount", { count }) : t("conv.jumpNewest");
  return (
    <div class="jump-newest">
      <button type="button" aria-label={label} title={label} onClick={() => {
        follow.jump();
        field.current?.focus();
      }} data-testid="jump-newest">
        <span aria-hidden="true">↓</span>
        {count > 0 ? <span class="jump-count" aria-hidden="true">{count}</span> : null}
      </button>
    </div>
  );
}
