import { useEffect } from "preact/hooks";
import { ComposeContext, MessageActions, MessageBody, MessageMarks, offersRetry, RetryTick, SendFailure } from "../../../ui/views/message-parts.js";
import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import type { ChatsViewModel } from "../../../ui/view-models/chats-model.js";
import type { ConversationViewModel } from "../../../ui/view-models/conversation-model.js";
import { outgoingText } from "../../../ui/view-models/composer.js";
import { RETENTION_CHOICES, readRetention, retentionLabel, retentionValue } from "../../../ui/view-models/settings-form.js";
import { useModel } from "../../../ui/views/use-model.js";
import { useTimelineFollow } from "../../../ui/views/timeline-follow.js";
import { JumpToNewest, useReadWhenSeen, useUnreadStart } from "../../../ui/views/newest-message.js";
import { useShownMessage } from "../../../ui/views/shown-message.js";
import { AttachmentBody, TransferBar } from "../../../ui/views/attachment-parts.js";
import { AttachButtons, composerKeyDown, TypingLine, useComposeFocus, useFileSending, useGrowingField } from "../../../ui/views/composer-parts.js";
import { Icon } from "../../../ui/views/icons.js";
import { AddressText } from "../../../ui/views/address-text.js";
import { PersonAvatar } from "../../../ui/views/person-avatar.js";
import { StarButton } from "../../../ui/views/star-button.js";

export function ConversationView({ app, chats, conversation }: { app: AppViewModel; chats: ChatsViewModel; conversation: ConversationViewModel }) {
  useModel(conversation);
  const files = conversation.files;
  useModel(files);
  const picking = useFileSending(conversation, () => follow.follow());
  const group = chats.group;
  const t = app.t;
  const draft = conversation.draft;
  const setDraft = (text: string) => conversation.setDraft(text);
  const items = conversation.items;
  const follow = useTimelineFollow(items);
  const path = conversation.pathView;
  // A 1:1 is headed by the person's display name, their address always beside it (PROTOCOL §8.2).
  const person = !group && conversation.peer ? chats.people.person(conversation.peer, { full: true }) : null;

  useReadWhenSeen(conversation, follow);
  useUnreadStart(conversation, follow);
  useShownMessage(conversation, follow);
  useEffect(() => conversation.markRead(), [conversation, items.length]);

  // The view stays still while older messages load above it.
  const loadOlder = () => {
    follow.holdPlace();
    void conversation.loadOlder();
  };

  const onScroll = (event: Event) => {
    follow.onScroll();
    if ((event.currentTarget as HTMLElement).scrollTop < 40 && conversation.hasOlder && !conversation.loadingOlder) loadOlder();
  };

  // The model's draft, not this render's: Enter pressed before the frame that draws the last
  // keystroke found the draft of the render before and sent nothing (the extension reads the model too).
  const send = () => {
    const text = outgoingText(conversation.draft);
    if (text === null || !conversation.canSend) return;
    follow.follow();
    void conversation.send(text);
  };

  const onKeyDown = composerKeyDown(conversation, send);
  const field = useGrowingField(draft);
  useComposeFocus(conversation, field);

  return (
    <section class={`conversation ${picking.dragging ? "dragging" : ""}`} aria-labelledby="conv-title" {...picking.drop}>
      {picking.dragging ? <p class="drop-hint" role="status">{t("file.drop")}</p> : null}
      <header class="pane-head">
        <button type="button" class="icon only-narrow" onClick={() => chats.close()} aria-label={t("nav.back")}><Icon name="back" /></button>
        {group ? <span class="avatar" aria-hidden="true"><Icon name="friends" size={22} /></span> : <PersonAvatar url={person?.avatar ?? null} initial={person?.initial ?? conversation.initial} />}
        <div class="grow">
          <h2 id="conv-title" class="ellipsis" title={conversation.peer ?? undefined}>
            {group?.title || (person && person.name === person.address ? <AddressText address={person.address} /> : person?.name || conversation.title)}
          </h2>
          {/* Its parts are dotted apart by the stylesheet, so a part left out leaves no stray dot. */}
          <div class="sub">
            {person && person.name !== person.address ? <AddressText address={person.address} testid="peer-address" /> : null}
            {group ? <span class="members" data-testid="member-count">{group.membersLabel(t)}</span> : null}
            <span class="security"><Icon name="lock" size={13} /> <span class="encrypted-words">{t("conv.encrypted")}</span></span>
            {conversation.verified ? <span>{t("friends.verified")}</span> : null}
            <span class={`path ${path.path}`} role="status" title={path.description} data-testid="message-path" data-path={path.path}>
              {path.label}<span class="visually-hidden">: {path.description}</span>
            </span>
          </div>
        </div>
        <span class="chat-controls">
          <label class="retention-pick" title={t("conv.retention")}>
            <Icon name="timer" size={15} />
            <span class="retention-word">{t("conv.timer")}</span>
            <select class="compact" value={conversation.retentionOverride === undefined ? "default" : retentionValue(conversation.retentionOverride)}
              onChange={(e) => {
                const value = e.currentTarget.value;
                void conversation.setRetention(value === "default" ? undefined : readRetention(value));
              }}>
              <option value="default">{t("conv.retentionDefault", { value: retentionLabel(app.retentionDays, t) })}</option>
              {RETENTION_CHOICES.map((days) => <option key={retentionValue(days)} value={retentionValue(days)}>{retentionLabel(days, t)}</option>)}
            </select>
          </label>
          {/* A chat the core has not made yet (no message so far) has nothing to pin or mute. */}
          {conversation.conversation ? (
            <>
              <button type="button" class="ghost mark-button" aria-pressed={chats.isPinned(conversation.conversation)} title={chats.isPinned(conversation.conversation) ? t("conv.unpin") : t("conv.pin")} onClick={() => void chats.togglePinned(conversation.conversation!)}>
                <Icon name="pin" size={16} /><span class="mark-word">{chats.isPinned(conversation.conversation) ? t("conv.unpin") : t("conv.pin")}</span>
              </button>
              <button type="button" class="ghost mark-button" aria-pressed={chats.isMuted(conversation.conversation)} title={chats.isMuted(conversation.conversation) ? t("conv.unmute") : t("conv.mute")} onClick={() => void chats.toggleMuted(conversation.conversation!)}>
                <Icon name="mute" size={16} /><span class="mark-word">{chats.isMuted(conversation.conversation) ? t("conv.unmute") : t("conv.mute")}</span>
              </button>
            </>
          ) : null}
        </span>
        {conversation.peer ? <button type="button" class="ghost" onClick={() => app.showSafety(conversation.peer!)}>{t("conv.verify")}</button> : null}
        {group ? <button type="button" class="ghost" aria-haspopup="dialog" onClick={() => group.openDetails()}>{t("group.info")}</button> : null}
      </header>
      {conversation.keyChanged ? <p class="notice" role="alert">{t("friends.keyChanged", { address: conversation.title })}</p> : null}
      <div class="timeline" ref={follow.ref} onScroll={onScroll} role="log" aria-label={conversation.title} data-testid="timeline">
        {conversation.hasOlder ? (
          <button type="button" class="ghost" style={{ alignSelf: "center" }} onClick={loadOlder} disabled={conversation.loadingOlder}>{t("conv.loadOlder")}</button>
        ) : null}
        {conversation.loaded && items.length === 0 ? <p class="empty">{t("conv.empty")}</p> : null}
        {items.map((item) =>
          item.kind === "day" ? (
            <div key={item.key} class="day" role="separator">{item.label}</div>
          ) : item.kind === "unread" ? (
            <div key={item.key} class="unread-line" role="separator" data-testid="unread-line"><span>{item.label}</span></div>
          ) : item.kind === "notice" ? (
            <p key={item.key} class="system-line" data-testid="notice">{item.text}</p>
          ) : (
            <div key={item.key} class={`bubble-row ${item.mine ? "mine" : ""} ${item.startsRun ? "run" : ""}`} data-testid="message" data-mine={item.mine ? "true" : "false"} data-message-id={item.id} data-shown={conversation.shownMessage?.id === item.id ? "true" : undefined}>
              <div class="bubble">
                {item.sender ? (
                  <><span class={`sender sender-c${item.sender.colour}`} title={item.sender.address} data-testid="sender">{item.sender.name}</span><span class="visually-hidden">: </span></>
                ) : item.author ? <span class="visually-hidden">{item.author.name}: </span> : null}
                {item.attachment && !item.deleted ? (
                  <>
                    <AttachmentBody id={item.id} attachment={item.attachment} files={files} t={t} unsent={item.failure?.unsent} />
                    <MessageMarks item={item} conversation={conversation} t={t} />
                  </>
                ) : (
                  <MessageBody item={item} conversation={conversation} t={t} />
                )}
                <span class="meta">
                  <MessageActions item={item} conversation={conversation} t={t} />
                  <StarButton id={item.id} starred={item.starred} conversation={conversation} t={t} />
                  <time>{item.time}</time>
                  {offersRetry(item, conversation) ? (
                    <RetryTick item={item} conversation={conversation} t={t} class={`tick ${item.status}`} />
                  ) : item.status ? (
                    <span class={`tick ${item.status}`} title={item.statusLabel} aria-label={item.statusLabel} data-testid="tick" data-status={item.status}>
                      {item.status === "queued" || item.status === "sending" ? <Icon name="clock" size={13} /> : item.tick}
                    </span>
                  ) : null}
                </span>
                <SendFailure item={item} conversation={conversation} t={t} />
              </div>
            </div>
          ),
        )}
      </div>
      <JumpToNewest conversation={conversation} follow={follow} field={field} t={t} />
      <TypingLine conversation={conversation} t={t} />
      {conversation.error ? <p class="notice" role="alert">{conversation.error}</p> : null}
      {files.error ? <p class="notice" role="alert" data-testid="file-error">{files.error}</p> : null}
      {[...files.transfers].filter(([, tr]) => tr.direction === "up").map(([key, tr]) => <TransferBar key={key} transfer={tr} t={t} />)}
      {conversation.removed ? (
        <p class="notice" role="status" data-testid="removed-notice">{t("conv.removed")}</p>
      ) : conversation.movedTo ? (
        <div class="notice" data-testid="moved-notice">
          <p>{t("move.chatMoved", { old: conversation.title, new: conversation.movedTo })}</p>
          <button type="button" class="primary" onClick={() => app.openChatWith(conversation.movedTo!)}>{t("move.openNew", { address: conversation.movedTo })}</button>
        </div>
      ) : group?.ending ? (
        <p class="notice" role="status" data-testid="group-ended">{t(group.ending.key, { name: group.ending.name ?? "" })}</p>
      ) : conversation.unsafe !== null ? (
        <p class="notice" role="alert" data-testid="unsafe-notice">{t(conversation.rejoining ? "conv.rejoining" : "conv.unsafe", { reason: conversation.unsafe })}</p>
      ) : conversation.canSend ? (
        <form class="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
          <ComposeContext conversation={conversation} t={t} />
          <label class="visually-hidden" for="composer">{t("conv.placeholder")}</label>
          <AttachButtons conversation={conversation} send={picking.send} t={t} />
          <textarea ref={field} id="composer" rows={1} autoFocus placeholder={t("conv.placeholder")} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} onKeyDown={onKeyDown} title={t("conv.composerHint")}
            onPaste={picking.onPaste} />
          <button type="submit" class="primary send" disabled={outgoingText(draft) === null}>{conversation.editing ? t("conv.save") : t("conv.send")}</button>
        </form>
      ) : (
        <p class="notice">{t("conv.notFriend", { address: conversation.title })}</p>
      )}
    </section>
  );
}
