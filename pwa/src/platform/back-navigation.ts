import type { AppViewModel, Tab } from "../../../ui/view-models/app-model.js";
import type { ConversationViewModel } from "../../../ui/view-models/conversation-model.js";

/** What a history entry of the app holds: the tab, and the chat open over it (its target) if any. */
interface Place {
  tab: Tab;
  chat: string | null;
}

const TABS: readonly Tab[] = ["chats", "friends", "favorites", "settings"];

function placeOf(state: unknown): Place {
  const s = (state ?? {}) as Partial<Place>;
  return { tab: TABS.includes(s.tab as Tab) ? (s.tab as Tab) : "chats", chat: typeof s.chat === "string" ? s.chat : null };
}

function targetOf(chat: ConversationViewModel): string {
  return chat.conversation ?? chat.peer!;
}

/**
 * The browser's Back (a phone's back gesture) closes the open chat instead of leaving the app,
 * as in an installed messenger: opening a chat adds one history entry, switching to another chat
 * or tab replaces it, and closing the chat in the app goes back over it, so Back never steps
 * through every chat seen. Forward opens the chat again.
 */
export function followBackNavigation(app: AppViewModel): void {
  let shown: ConversationViewModel | null = app.chats?.conversation ?? null;
  let tab = app.tab;
  let restoring = false;
  /** The app closed the chat and went back over its entry: that popstate is ours, not the user's. */
  let leaving = false;
  const current = (): Place => ({ tab: app.tab, chat: shown ? targetOf(shown) : null });
  history.replaceState({ tab: app.tab, chat: null } satisfies Place, "");
  if (shown) history.pushState(current(), "");

  app.subscribe(() => {
    const chat = app.chats?.conversation ?? null;
    if (restoring || (chat === shown && app.tab === tab)) return;
    const opened = shown === null && chat !== null;
    const closed = shown !== null && chat === null;
    shown = chat;
    tab = app.tab;
    if (leaving) return;
    if (opened) history.pushState(current(), "");
    else if (closed && placeOf(history.state).chat !== null) {
      leaving = true;
      history.back();
    } else history.replaceState(current(), "");
  });

  window.addEventListener("popstate", (event) => {
    if (leaving) {
      // What changed while the browser went back (a chat opened again) is recorded now.
      leaving = false;
      const chat = app.chats?.conversation ?? null;
      shown = chat;
      tab = app.tab;
      if (chat) history.pushState(current(), "");
      else history.replaceState(current(), "");
      return;
    }
    const place = placeOf(event.state);
    const chats = app.chats;
    // The changes made here are the history's own, not steps to record.
    restoring = true;
    try {
      if (place.chat === null && chats?.conversation) chats.close();
      // A chat that is gone since (a group left and removed) is not opened again.
      else if (place.chat !== null && chats && !chats.conversation && (!place.chat.includes("/") || chats.summary(place.chat))) app.openConversation(place.chat);
      if (app.tab !== place.tab) app.showTab(place.tab);
    } finally {
      restoring = false;
    }
    shown = app.chats?.conversation ?? null;
    tab = app.tab;
  });
}
