import { useEffect, useRef, useState } from "preact/hooks";
import { composerAction, outgoingText } from "../../pwa/src/view-models/composer.js";
import { buildTimeline, type TimelineMessage } from "../../pwa/src/view-models/timeline.js";
import type { MessageView } from "../messaging/messages.js";
import { ask, onChanged } from "./panel-api.js";
import { locale, t } from "./i18n.js";

function timelineMessage(m: MessageView): TimelineMessage {
  return { id: m.id, mine: m.mine, text: m.text, at: m.at, status: m.status === "received" ? null : m.status, starred: false };
}

/** One conversation: its timeline (the PWA's view model) and a composer. */
export function Chat({ peer, onBack }: { peer: string; onBack(): void }) {
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState("");
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => {
    const load = async () => {
      const reply = await ask({ type: "history", peer });
      if (reply.ok) setMessages(reply.messages);
      else setError(reply.message);
    };
    void load();
    return onChanged((what) => what === "messages" && void load());
  }, [peer]);
  useEffect(() => end.current?.scrollIntoView?.({ block: "end" }), [messages.length]);

  const send = async () => {
    const text = outgoingText(draft);
    if (text === null) return;
    setDraft("");
    const reply = await ask({ type: "send", peer, text });
    if (reply.ok) setMessages((list) => (list.some((m) => m.id === reply.message.id) ? list : [...list, reply.message]));
    else {
      setDraft(text);
      setError(reply.message);
    }
  };
  const items = buildTimeline(messages.map(timelineMessage), Date.now(), locale, t);
  return (
    <section class="chat" aria-label={peer}>
      <header class="row">
        <button onClick={onBack} aria-label="Back to chats">←</button>
        <h2>{peer}</h2>
        <span class="hint">{t("conv.encrypted")}</span>
      </header>
      {items.length === 0 && <p>{t("conv.empty")}</p>}
      <ol class="timeline" aria-label="Messages">
        {items.map((item) =>
          item.kind === "day" ? (
            <li key={item.key} class="day">{item.label}</li>
          ) : (
            <li key={item.key} class={item.mine ? "mine" : "theirs"}>
              <span class="text">{item.text}</span> <span class="meta">{item.time} {item.tick && <span aria-label={item.statusLabel}>{item.tick}</span>}</span>
            </li>
          ),
        )}
        <li ref={end} aria-hidden="true" />
      </ol>
      {error && <p role="alert">{error}</p>}
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
    </section>
  );
}
