import { useEffect, useReducer, useRef, useState } from "preact/hooks";
import type { Address } from "../../shared/address.js";
import { composerAction, outgoingText } from "../../ui/view-models/composer.js";
import { GroupViewModel } from "../../ui/view-models/group-model.js";
import { newestAnswer } from "../../ui/view-models/newest-answer.js";
import { buildTimeline } from "../../ui/view-models/timeline.js";
import { timelineMessage } from "./message-view.js";
import type { MessageView } from "../messaging/messages.js";
import { ChatRetention } from "./chat-retention.js";
import { GroupInfo } from "./group-info.js";
import { groupRequests } from "./group-requests.js";
import { ask, onChanged } from "./panel-api.js";
import { locale, t } from "./i18n.js";


/** A group's id holds its hub's host and a slash; a friend's address never does. */
export const isGroupChat = (chat: string) => chat.includes("/");

/** The open group's view model (shared with the PWA), kept in step with what the background says changed. */
function useGroup(chat: string, self: Address, onError: (message: string) => void): GroupViewModel | null {
  const [group, setGroup] = useState<GroupViewModel | null>(null);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => group?.subscribe(() => bump(undefined)), [group]);
  useEffect(() => {
    if (!isGroupChat(chat)) return setGroup(null);
    let model: GroupViewModel | null = null;
    const load = newestAnswer(
      () => ask({ type: "group", conversation: chat }),
      async (reply) => {
        if (!reply.ok) return onError(reply.message);
        if (model) model.update(reply.group);
        else setGroup((model = new GroupViewModel(groupRequests(self), reply.group)));
        await model.load();
      },
    );
    void load();
    return onChanged((what) => what === "messages" && void load());
  }, [chat, self]);
  return group;
}

/** One conversation, 1:1 or group: its timeline (the view model shared with the PWA) and a composer. */
export function Chat({ chat, self, onBack }: { chat: string; self: Address; onBack(): void }) {
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState("");
  const end = useRef<HTMLLIElement>(null);
  const group = useGroup(chat, self, setError);
  useEffect(() => {
    const load = newestAnswer(
      () => ask({ type: "history", chat }),
      (reply) => (reply.ok ? setMessages(reply.messages) : setError(reply.message)),
    );
    void load();
    return onChanged((what) => what === "messages" && void load());
  }, [chat]);
  useEffect(() => end.current?.scrollIntoView?.({ block: "end" }), [messages.length]);

  const send = async () => {
    const text = outgoingText(draft);
    if (text === null) return;
    setDraft("");
    const reply = await ask({ type: "send", chat, text });
    if (reply.ok) setMessages((list) => (list.some((m) => m.id === reply.message.id) ? list : [...list, reply.message]));
    else {
      setDraft(text);
      setError(reply.message);
    }
  };
  if (isGroupChat(chat) && !group) {
    return (
      <section class="chat">
        <button onClick={onBack} aria-label={t("nav.backToChats")}>←</button>
        {error ? <p role="alert">{error}</p> : <p>…</p>}
      </section>
    );
  }
  const title = group ? group.title || group.members.filter((m) => !m.you).map((m) => m.name).join(", ") : chat;
  if (group?.detailsOpen) return <GroupInfo group={group} />;
  const byId = new Map(messages.map((m) => [m.id, m]));
  const items = buildTimeline(messages.map((m) => timelineMessage(m, t, byId)), Date.now(), locale, t, group?.labels);
  const ending = group?.ending;
  return (
    <section class="chat" aria-label={title}>
      <header class="row">
        <button onClick={onBack} aria-label={t("nav.backToChats")}>←</button>
        <div class="grow">
          <h2>{title}</h2>
          {group && <span class="hint">{group.membersLabel(t)}</span>}
        </div>
        {group ? <button onClick={() => group.openDetails()}>{t("group.info")}</button> : <span class="hint">{t("conv.encrypted")}</span>}
      </header>
      <ChatRetention chat={chat} onError={setError} />
      {items.length === 0 && <p>{t("conv.empty")}</p>}
      <ol class="timeline" aria-label="Messages">
        {items.map((item) => {
          if (item.kind === "day") return <li key={item.key} class="day">{item.label}</li>;
          if (item.kind === "notice") return <li key={item.key} class="notice">{item.text}</li>;
          return (
            <li key={item.key} class={item.mine ? "mine" : "theirs"}>
              {item.sender && <span class={`sender sender-c${item.sender.colour}`} aria-hidden="true">{item.sender.name}</span>}
              {item.author && <span class="visually-hidden">{item.author.name}: </span>}
              {item.quote && <span class="quote">{item.quote.text === null ? t("conv.quoteMissing") : `${item.quote.author}: ${item.quote.text}`}</span>}
              {item.deleted ? <span class="text deleted">{t("conv.deleted")}</span> : (
                <span class="text">{item.parts.map((part, i) => (part.href ? <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">{part.text}</a> : part.text))}</span>
              )}
              {item.edited && <span class="edited"> ({t("conv.edited")})</span>}
              {item.reactions.length > 0 && <span class="reactions">{item.reactions.map((r) => `${r.emoji} ${r.count}`).join("  ")}</span>}{" "}
              <span class="meta">{item.time} {item.tick && <span aria-label={item.statusLabel}>{item.tick}</span>}</span>
            </li>
          );
        })}
        <li ref={end} aria-hidden="true" />
      </ol>
      {error && <p role="alert">{error}</p>}
      {ending ? (
        <p class="ending" role="status">{t(ending.key, ending.name ? { name: ending.name } : undefined)}</p>
      ) : (
        <form
          class="row composer"
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <textarea
            aria-label={t("conv.placeholder")}
            placeholder={t("conv.placeholder")}
            value={draft}
            rows={2}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (composerAction(e) === "send") {
                e.preventDefault();
                void send();
              }
            }}
          />
          <button type="submit">{t("conv.send")}</button>
        </form>
      )}
    </section>
  );
}
