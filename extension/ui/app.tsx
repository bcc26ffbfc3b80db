import { useEffect, useState } from "preact/hooks";
import type { Address } from "../../shared/address.js";
import type { ReplyOf } from "../messaging/messages.js";
import { Chat } from "./chat.js";
import { Chats } from "./chats.js";
import { Friends } from "./friends.js";
import { t } from "./i18n.js";
import { ask, onChanged } from "./panel-api.js";
import { Settings } from "./settings.js";
import { Setup } from "./setup.js";

type Tab = "chats" | "friends" | "settings";
const TABS: readonly Tab[] = ["chats", "friends", "settings"];
const TAB_LABEL: Record<Tab, string> = { chats: t("chats.title"), friends: t("friends.title"), settings: t("settings.title") };

/** The popup and the side panel: the same app, the panel with more room. */
export function App({ layout }: { layout: "popup" | "panel" }) {
  const [status, setStatus] = useState<ReplyOf["status"] | null>(null);
  const [tab, setTab] = useState<Tab>("chats");
  // The open chat: a friend's address, or a group's conversation id.
  const [chat, setChat] = useState<string | null>(null);
  const refresh = () => void ask({ type: "status" }).then(setStatus);
  useEffect(() => {
    refresh();
    return onChanged((what) => what !== "messages" && refresh());
  }, []);

  if (status === null) return <main class={layout}><p>…</p></main>;
  if (!status.ok) return <main class={layout}><p role="alert">{status.message}</p></main>;
  if (!status.account) {
    return (
      <main class={layout}>
        <h1>{t("app.name")}</h1>
        <Setup queued={status.friends.map((f) => f.address)} onDone={refresh} />
      </main>
    );
  }
  const openChat = (id: string) => setChat(id);
  const self = status.account as Address;
  const requests = status.friends.filter((f) => f.state === "incoming" || f.state === "held").length;
  return (
    <main class={layout}>
      <header class="row top">
        <h1>{t("app.name")}</h1>
        <span class="who">{status.account}</span>
        <span class={`connection ${status.connection}`} role="status">{status.connection === "online" ? "Online" : status.connection === "connecting" ? "Connecting…" : "Offline"}</span>
      </header>
      {chat ? (
        <Chat key={chat} chat={chat} self={self} onBack={() => setChat(null)} />
      ) : (
        <>
          <nav role="tablist" class="row tabs">
            {TABS.map((id) => (
              <button key={id} role="tab" aria-selected={tab === id} onClick={() => setTab(id)}>
                {TAB_LABEL[id]}
                {id === "friends" && requests > 0 ? ` (${requests})` : ""}
              </button>
            ))}
          </nav>
          {tab === "chats" && <Chats self={self} friends={status.friends} onOpenChat={openChat} />}
          {tab === "friends" && <Friends self={self} friends={status.friends} onOpenChat={openChat} />}
          {tab === "settings" && <Settings />}
        </>
      )}
    </main>
  );
}
