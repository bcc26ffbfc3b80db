import { useState } from "preact/hooks";
import type { ChatsViewModel } from "../../ui/view-models/chats-model.js";
import { ChatSearchField, SearchHits } from "../../ui/views/chat-search.js";
import { useModel } from "../../ui/views/use-model.js";
import { PersonAvatar } from "../../ui/views/person-avatar.js";
import { ChatPreview } from "../../ui/views/chat-preview.js";
import type { Address } from "../../shared/address.js";
import type { FriendView } from "../messaging/messages.js";
import { NewGroup } from "./new-group.js";
import { t } from "./i18n.js";

/** Conversations, pinned then newest first, and message search, through the chat list the PWA uses. */
export function Chats({ self, chats, friends }: { self: Address; chats: ChatsViewModel; friends: FriendView[] }) {
  useModel(chats);
  const [newGroup, setNewGroup] = useState(false);
  if (newGroup) return <NewGroup self={self} people={chats.people} onCreated={(id) => void chats.load().then(() => chats.open(id))} onCancel={() => setNewGroup(false)} />;
  const rows = chats.rows;
  const withoutChat = friends.filter((f) => f.state === "friend" && !rows.some((r) => r.title === f.address));
  return (
    <section aria-label={t("chats.title")}>
      <button class="new-group-button" onClick={() => setNewGroup(true)}>{t("chats.newGroup")}</button>
      <ChatSearchField chats={chats} t={t} />
      {chats.searchQuery.trim() !== "" ? (
        <SearchHits chats={chats} t={t} />
      ) : (
        <>
          {rows.length === 0 && withoutChat.length === 0 && <p>{t("chats.empty")}</p>}
          <ul class="chats" aria-label={t("chats.title")}>
            {rows.map((row) => (
              <li key={row.id}>
                <button class="chat-row" onClick={() => chats.open(row.id)} data-testid="chat-row" title={row.address || undefined}>
                  <PersonAvatar url={row.avatar} initial={row.initial} />
                  <span class="title">
                    {row.title}
                    {row.group && <span class="hint"> · {row.membersLabel}</span>}
                    {row.pinned ? <span class="mark" title={t("conv.pinned")} data-testid="pinned"> 📌<span class="visually-hidden">{t("conv.pinned")}</span></span> : null}
                    {row.muted ? <span class="mark" title={t("conv.muted")} data-testid="muted"> 🔕<span class="visually-hidden">{t("conv.muted")}</span></span> : null}
                  </span>
                  <span class="stamp">{row.stamp}</span>
                  <ChatPreview row={row} />
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
                    <button onClick={() => chats.open(f.address)}>{f.address}</button>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </section>
  );
}
