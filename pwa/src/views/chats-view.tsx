import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import type { ChatsViewModel } from "../../../ui/view-models/chats-model.js";
import { ConversationView } from "./conversation-view.js";
import { GroupDialog } from "./group-dialog.js";
import { Icon } from "../../../ui/views/icons.js";
import { NewGroupDialog } from "./new-group-dialog.js";
import { useModel } from "../../../ui/views/use-model.js";
import { ChatSearchField, SearchHits } from "../../../ui/views/chat-search.js";
import { PersonAvatar } from "../../../ui/views/person-avatar.js";
import { ChatPreview } from "../../../ui/views/chat-preview.js";

export function ChatsView({ app, chats }: { app: AppViewModel; chats: ChatsViewModel }) {
  useModel(chats);
  const t = app.t;
  const rows = chats.rows;
  return (
    <div class={`main ${chats.conversation ? "has-detail" : ""}`}>
      <section class="pane-list" aria-labelledby="chats-title">
        <header class="pane-head">
          <h1 id="chats-title" class="grow">{t("chats.title")}</h1>
          <button type="button" class="ghost" onClick={() => chats.startNewGroup()}>{t("chats.newGroup")}</button>
          <button type="button" class="ghost" onClick={() => app.showTab("friends")}>{t("chats.new")}</button>
        </header>
        <ChatSearchField chats={chats} t={t} />
        {chats.searchQuery.trim() !== "" ? (
          <div class="pane-body">
            <SearchHits chats={chats} t={t} />
          </div>
        ) : (
        <div class="pane-body">
          {app.notificationOffer ? (
            <div class="offer" role="group" aria-label={t("settings.notifications")} data-testid="notify-offer">
              <p>{t("offer.notify.text")}</p>
              <div class="offer-actions">
                <button type="button" onClick={() => void app.acceptNotificationOffer()}>{t("offer.notify.yes")}</button>
                <button type="button" class="ghost" onClick={() => void app.declineNotificationOffer()}>{t("offer.notify.no")}</button>
              </div>
            </div>
          ) : null}
          {rows.length === 0 ? <p class="empty">{t("chats.empty")}</p> : null}
          <ul class="plain" aria-labelledby="chats-title">
          {rows.map((row) => (
            <li key={row.id}>
            <button type="button" class="chat-row" aria-current={row.selected ? "true" : undefined} onClick={() => chats.open(row.id)} data-testid="chat-row" title={row.address || undefined}>
              {row.group ? <span class="avatar" aria-hidden="true"><Icon name="friends" size={22} /></span> : <PersonAvatar url={row.avatar} initial={row.initial} />}
              <span class="grow">
                <span class="top">
                  <span class="title">{row.title}</span>
                  {row.group ? <span class="members" data-testid="member-count">{row.membersLabel}</span> : null}
                  {row.pinned ? <span class="mark" title={t("conv.pinned")} data-testid="pinned">📌<span class="visually-hidden">{t("conv.pinned")}</span></span> : null}
                  {row.muted ? <span class="mark" title={t("conv.muted")} data-testid="muted">🔕<span class="visually-hidden">{t("conv.muted")}</span></span> : null}
                  <span class="stamp">{row.stamp}</span>
                </span>
                <span class="bottom">
                  <ChatPreview row={row} />
                  {row.unread > 0 ? <span class="badge" aria-label={row.unreadLabel}>{row.unread}</span> : null}
                </span>
              </span>
            </button>
            </li>
          ))}
          </ul>
        </div>
        )}
      </section>
      {chats.conversation ? (
        <ConversationView key={chats.conversation.peer ?? chats.conversation.conversation} app={app} chats={chats} conversation={chats.conversation} />
      ) : (
        <div class="placeholder"><p>{t("chats.pick")}</p></div>
      )}
      {chats.newGroup ? <NewGroupDialog app={app} chats={chats} form={chats.newGroup} /> : null}
      {chats.group?.detailsOpen ? <GroupDialog key={chats.group.conversation} app={app} group={chats.group} /> : null}
    </div>
  );
}
