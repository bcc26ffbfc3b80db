import { useEffect, useState } from "preact/hooks";
import type { Address } from "../../shared/address.js";
import type { ChatsViewModel } from "../../ui/view-models/chats-model.js";
import { outgoingText } from "../../ui/view-models/composer.js";
import type { ConversationViewModel } from "../../ui/view-models/conversation-model.js";
import { AttachmentBody, TransferBar } from "../../ui/views/attachment-parts.js";
import { AttachButtons, composerKeyDown, TypingLine, useComposeFocus, useFileSending, useGrowingField } from "../../ui/views/composer-parts.js";
import { ComposeContext, MessageActions, MessageBody, MessageMarks, offersRetry, RetryTick, SendFailure } from "../../ui/views/message-parts.js";
import { useModel } from "../../ui/views/use-model.js";
import { useTimelineFollow } from "../../ui/views/timeline-follow.js";
import { JumpToNewest, useReadWhenSeen, useUnreadStart } from "../../ui/views/newest-message.js";
import { useShownMessage } from "../../ui/views/shown-message.js";
import { PersonAvatar } from "../../ui/views/person-avatar.js";
import { StarButton } from "../../ui/views/star-button.js";
import { ChatRetention } from "./chat-retention.js";
import { GroupInfo } from "./group-info.js";
import { t } from "./i18n.js";

/**
 * One conversation, 1:1 or group, through the view models the PWA uses (its timeline, actions,
 * files and composer); laid out for the side panel's narrow width: the header keeps the name, and
 * Pin and Mute sit on a line of their own under it.
 */
export function Chat({ chats, conversation, onSafety }: { chats: ChatsViewModel; conversation: ConversationViewModel; onSafety(peer: Address): void }) {
  useModel(conversation);
  const files = useModel(conversation.files);
  const group = chats.group;
  const items = conversation.items;
  const follow = useTimelineFollow(items);
  const picking = useFileSending(conversation, () => follow.follow());
  const [retentionError, setRetentionError] = useState("");
  const field = useGrowingField(conversation.draft);
  useComposeFocus(conversation, field);
  // Opening a chat is to write in it: the cursor starts in the message box (once the chat can be written in).
  useEffect(() => {
    if (conversation.canSend) field.current?.focus();
  }, [conversation.canSend]);
  useReadWhenSeen(conversation, follow);
  useUnreadStart(conversation, follow);
  useShownMessage(conversation, follow);
  useEffect(() => conversation.markRead(), [conversation, items.length]);

  const send = () => {
    const text = outgoingText(conversation.draft);
    if (text === null || !conversation.canSend) return;
    follow.follow();
    void conversation.send(text);
  };
  if (group?.detailsOpen) return <GroupInfo group={group} />;
  // A 1:1 is headed by the person's display name, their address always under it (PROTOCOL §8.2).
  const person = !group && conversation.peer ? chats.people.person(conversation.peer, { full: true }) : null;
  const title = group?.title || person?.name || conversation.title;
  const chat = conversation.conversation;
  const ending = group?.ending;
  return (
    <section class={`chat ${picking.dragging ? "dragging" : ""}`} aria-label={title} {...picking.drop}>
      {picking.dragging ? <p class="drop-hint" role="status">{t("file.drop")}</p> : null}
      <header class="row">
        <button onClick={() => chats.close()} aria-label={t("nav.backToChats")}>←</button>
        {person ? <PersonAvatar url={person.avatar} initial={person.initial} extra="small" /> : null}
        <div class="grow">
          <h2 class="ellipsis" title={conversation.peer ?? undefined}>{title}</h2>
          {group ? (
            <span class="hint">{group.membersLabel(t)}</span>
          ) : (
            <span class="hint">
              {person && person.name !== person.address ? `${person.address} · ` : ""}{t("conv.encrypted")}
              {conversation.verified ? <> · <span data-testid="peer-verified">{t("friends.verified")}</span></> : null}
            </span>
          )}
        </div>
        {group ? <button onClick={() => group.openDetails()}>{t("group.info")}</button> : null}
        {person ? <button onClick={() => onSafety(person.address)}>{t("conv.verify")}</button> : null}
      </header>
      {conversation.keyChanged ? <p class="notice" role="alert">{t("friends.keyChanged", { address: conversation.peer ?? title })}</p> : null}
      <div class="row wrap chat-tools">
        {chat ? (
          <>
            <button type="button" class="ghost" aria-pressed={chats.isPinned(chat)} onClick={() => void chats.togglePinned(chat)}>{chats.isPinned(chat) ? t("conv.unpin") : t("conv.pin")}</button>
            <button type="button" class="ghost" aria-pressed={chats.isMuted(chat)} onClick={() => void chats.toggleMuted(chat)}>{chats.isMuted(chat) ? t("conv.unmute") : t("conv.mute")}</button>
          </>
        ) : null}
        <ChatRetention conversation={conversation} onError={setRetentionError} />
      </div>
      {conversation.loaded && items.length === 0 && <p>{t("conv.empty")}</p>}
      <ol class="timeline" aria-label={t("ext.messages")} ref={follow.ref} onScroll={follow.onScroll}>
        {items.map((item) => {
          if (item.kind === "day") return <li key={item.key} class="day">{item.label}</li>;
          if (item.kind === "unread") return <li key={item.key} class="unread-line" role="separator" data-testid="unread-line"><span>{item.label}</span></li>;
          if (item.kind === "notice") return <li key={item.key} class="notice">{item.text}</li>;
          return (
            <li key={item.key} class={item.mine ? "mine" : "theirs"} data-testid="message" data-message-id={item.id} data-shown={conversation.shownMessage?.id === item.id ? "true" : undefined}>
              {item.sender && <span class={`sender sender-c${item.sender.colour}`} aria-hidden="true">{item.sender.name}</span>}
              {item.author && <span class="visually-hidden">{item.author.name}: </span>}
              {item.attachment && !item.deleted ? (
                <>
                  <AttachmentBody id={item.id} attachment={item.attachment} files={files} t={t} unsent={item.failure?.unsent} />
                  <MessageMarks item={item} conversation={conversation} t={t} />
                </>
              ) : (
                <MessageBody item={item} conversation={conversation} t={t} />
              )}{" "}
              <span class="meta">
                <MessageActions item={item} conversation={conversation} t={t} />
                <StarButton id={item.id} starred={item.starred} conversation={conversation} t={t} />
                <span class="stamp">{item.time} {offersRetry(item, conversation) ? <RetryTick item={item} conversation={conversation} t={t} class="tick" /> : item.tick && <span class={`tick ${item.status}`} aria-label={item.statusLabel} title={item.statusLabel} data-status={item.status}>{item.tick}</span>}</span>
              </span>
              <SendFailure item={item} conversation={conversation} t={t} />
            </li>
          );
        })}
      </ol>
      <JumpToNewest conversation={conversation} follow={follow} field={field} t={t} />
      <TypingLine conversation={conversation} t={t} />
      {(conversation.error || retentionError) && <p role="alert">{conversation.error || retentionError}</p>}
      {files.error && <p role="alert" data-testid="file-error">{files.error}</p>}
      {[...files.transfers].filter(([, tr]) => tr.direction === "up").map(([key, tr]) => <TransferBar key={key} transfer={tr} t={t} />)}
      {conversation.removed ? (
        <p role="status" data-testid="removed-notice">{t("conv.removed")}</p>
      ) : ending ? (
        <p class="ending" role="status">{t(ending.key, ending.name ? { name: ending.name } : undefined)}</p>
      ) : conversation.unsafe !== null ? (
        <p role="alert">{t(conversation.rejoining ? "conv.rejoining" : "conv.unsafe", { reason: conversation.unsafe })}</p>
      ) : conversation.canSend ? (
        <form class="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
          <ComposeContext conversation={conversation} t={t} />
          <div class="row">
            <AttachButtons conversation={conversation} send={picking.send} t={t} />
            <textarea ref={field} aria-label={t("conv.placeholder")} placeholder={t("conv.placeholder")} value={conversation.draft} rows={1}
              onInput={(e) => conversation.setDraft(e.currentTarget.value)} onKeyDown={composerKeyDown(conversation, send)} onPaste={picking.onPaste} />
            <button type="submit">{conversation.editing ? t("conv.save") : t("conv.send")}</button>
          </div>
        </form>
      ) : (
        <p class="hint">{t("conv.notFriend", { address: conversation.title })}</p>
      )}
    </section>
  );
}
