import { useEffect, useState } from "preact/hooks";
import { chatRows } from "../../ui/view-models/chat-list.js";
import { newestAnswer } from "../../ui/view-models/newest-answer.js";
import type { Address } from "../../shared/address.js";
import type { ChatView, FriendView } from "../messaging/messages.js";
import { NewGroup } from "./new-group.js";
import { ask, onChanged } from "./panel-api.js";
import { locale, t } from "./i18n.js";

/** Conversations, newest first, through the chat-list view model it shares with the PWA; a chat opens by its id. */
export function Chats({ self, friends, onOpenChat }: { self: Address; friends: FriendView[]; onOpenChat(chat: string): void }) {
  const [chats, setChats] = useState<ChatView[] | null>(null);
  const [error, setError] = useState("");
  const [newGroup, setNewGroup] = useState(false);
  useEffect(() => {
    const load = newestAnswer(
      () => ask({ type: "conversations" }),
      (reply) => (reply.ok ? setChats(reply.chats) : setError(reply.message)),
    );
    void load();
    return onChanged((what) => what === "messages" && void load());
  }, []);
  if (error) return <p role="alert">{error}</p>;
  if (chats === null) return <p>…</p>;
  if (newGroup) return <NewGroup self={self} onCreated={onOpenChat} onCancel={() => setNewGroup(false)} />;
  const rows = chatRows(chats, null, Date.now(), locale, t);
  const withoutChat = friends.filter((f) => f.state === "friend" && !chats.some((c) => c.id === f.address));
  return (
    <section aria-label={t("chats.title")}>
      <button class="new-group-button" onClick={() => setNewGroup(true)}>{t("chats.newGroup")}</button>
      {rows.length === 0 && withoutChat.length === 0 && <p>{t("chats.empty")}</p>}
      <ul class="chats" aria-label={t("chats.title")}>
        {rows.map((row) => (
          <li key={row.id}>
            <button class="chat-row" onClick={() => onOpenChat(row.id)}>
              <span class="avatar" aria-hidden="true">{row.initial}</span>
              <span class="title">
                {row.title}
                {row.group && <span class="hint"> · {row.membersLabel}</span>}
              </span>
              <span class="stamp">{row.stamp}</span>
              <span class="preview">{row.preview}</span>
              {row.unread > 0 && <span class="unread">{row.unreadLabel}</span>}
            </button>
          </li>
        ))}
      </ul>
      {withoutChat.length > 0 && (
        <>
          <h3>{t("chats.new")}</h3>
          <ul>
            {withoutChat.map((f) => (
              <li key={f.address}>
                <button onClick={() => onOpenChat(f.address)}>{f.address}</button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
