import { useEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import type { Address } from "../../shared/address.js";
import type { ReplyOf } from "../messaging/messages.js";
import { catchUpBanner, type LinkState, type RemovedChoice } from "../../ui/view-models/connectivity.js";
import { RemovedDeviceNotice } from "../../ui/views/removed-device.js";
import { MoveSummary } from "../../ui/views/import-form.js";
import { importSummary } from "../../ui/view-models/account-import.js";
import type { ImportResult } from "../../ui/view-models/core-types.js";
import { ChatsViewModel } from "../../ui/view-models/chats-model.js";
import { DevicesViewModel } from "../../ui/view-models/devices-model.js";
import { FavoritesViewModel } from "../../ui/view-models/favorites-model.js";
import { FavoritesList } from "../../ui/views/favorites-list.js";
import { FriendTrustList } from "../../ui/view-models/friend-trust.js";
import { SafetyViewModel } from "../../ui/view-models/safety-model.js";
import { SafetyDialog } from "../../ui/views/safety-dialog.js";
import { Chat } from "./chat.js";
import { chatContext } from "./chat-context.js";
import { Chats } from "./chats.js";
import { Friends } from "./friends.js";
import { locale, t } from "./i18n.js";
import { ask, onCatchUp, onChanged } from "./panel-api.js";
import { Settings } from "./settings.js";
import { Setup } from "./setup.js";

type Tab = "chats" | "friends" | "favorites" | "settings";
const TABS: readonly Tab[] = ["chats", "friends", "favorites", "settings"];
const TAB_LABEL: Record<Tab, string> = { chats: t("chats.title"), friends: t("friends.title"), favorites: t("favorites.title"), settings: t("settings.title") };

/** The popup and the side panel: the same app, the panel with more room. */
export function App({ layout }: { layout: "popup" | "panel" }) {
  const [status, setStatus] = useState<ReplyOf["status"] | null>(null);
  const [tab, setTab] = useState<Tab>("chats");
  // After a removed device's data is deleted: setup opens at the link form for "Link again".
  const [setupStart, setSetupStart] = useState<RemovedChoice>("welcome");
  const [forgetting, setForgetting] = useState(false);
  const [forgetError, setForgetError] = useState<string | null>(null);
  // The account was deleted from Settings: setup says so above its form.
  const [deleted, setDeleted] = useState(false);
  // A move made at setup: what came along and what did not, said above the tabs until dismissed.
  const [moved, setMoved] = useState<ImportResult | null>(null);
  const refresh = () => void ask({ type: "status" }).then(setStatus);
  // The backlog the background reads after a wake-up, as the PWA's strip shows it: "Catching up… 3,200 of 10,000".
  const [backlog, setBacklog] = useState<{ done: number; total: number } | null>(null);
  useEffect(() => onCatchUp((progress) => setBacklog(progress.done < progress.total ? progress : null)), []);
  const banner = catchUpBanner(backlog, locale, t);
  useEffect(() => {
    refresh();
    return onChanged((what) => what !== "messages" && refresh());
  }, []);
  const account = status?.ok ? status.account : null;
  // An account made or linked since: the deletion is old news.
  useEffect(() => {
    if (account) setDeleted(false);
  }, [account]);
  const link = useRef<LinkState>("connecting");
  if (status?.ok) link.current = status.connection === "none" ? "connecting" : status.connection;
  // The chat list, the open chat, friends' trust, starred messages and devices: the PWA's view models, asking the background for the core.
  const favoritesShown = useRef<FavoritesViewModel | null>(null);
  const ctx = useMemo(() => (account ? chatContext(account as Address, () => link.current, () => void favoritesShown.current?.load()) : null), [account]);
  const chats = useMemo(() => (ctx ? new ChatsViewModel(ctx) : null), [ctx]);
  const favorites = useMemo(() => (ctx ? new FavoritesViewModel(ctx, (id) => chats?.conversation?.unstarred(id)) : null), [ctx, chats]);
  favoritesShown.current = favorites;
  useEffect(() => {
    if (tab === "favorites") void favorites?.load();
  }, [tab, favorites]);
  // Made once per account: it listens to the core's device events for as long as the panel is open.
  const devices = useMemo(() => (ctx ? new DevicesViewModel(ctx) : null), [ctx]);
  const trust = useMemo(() => (ctx ? new FriendTrustList(ctx.client, ctx.records) : null), [ctx]);
  // Read at once, not when Friends opens: the first key seen for each friend is what a changed one is told from.
  useEffect(() => void trust?.load(), [trust]);
  const [safety, setSafety] = useState<SafetyViewModel | null>(null);
  const showSafety = (peer: Address) => {
    if (!ctx) return;
    const opened = new SafetyViewModel(ctx, peer, () => {
      void trust?.load();
      void chats?.conversation?.refreshTrust();
    });
    setSafety(opened);
    void opened.load();
  };
  // Queued messages read "not sent" once the device is removed, "waiting" while offline: drawn again when it changes.
  const connection = status?.ok ? status.connection : null;
  useEffect(() => chats?.refresh(), [connection, chats]);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  // As useModel does: a change between this render and the effect's subscription is not missed.
  const drawn = chats?.version ?? 0;
  useEffect(() => {
    if (!chats) return;
    const unsubscribe = chats.subscribe(() => bump(undefined), drawn);
    void chats.load();
    // The list is read again after expiry removed messages; a friend's change may open or close their chat's composer.
    const off = onChanged((what, removed) => {
      if (what === "messages") {
        chats.conversation?.forget(removed);
        void chats.load();
      }
      if (what === "friends") void chats.conversation?.refreshTrust();
    });
    return () => {
      unsubscribe();
      off();
    };
  }, [chats]);

  if (status === null) return <main class={layout}><p>…</p></main>;
  if (!status.ok) return <main class={layout}><p role="alert">{status.message}</p></main>;
  if (!status.account) {
    return (
      <main class={layout}>
        <h1>{t("app.name")}</h1>
        {deleted ? <p role="status" data-testid="account-deleted">{t("settings.deleted")}</p> : null}
        <Setup queued={status.friends.map((f) => f.address)} onDone={(move) => {
          setMoved(move ?? null);
          refresh();
        }} link={setupStart === "link"} />
      </main>
    );
  }
  const openChat = (id: string) => chats?.open(id);
  const self = status.account as Address;
  const forget = async (choice: RemovedChoice) => {
    setForgetting(true);
    setForgetError(null);
    const reply = await ask({ type: "forget-device" });
    setForgetting(false);
    if (!reply.ok) return setForgetError(reply.message);
    setSetupStart(choice);
    setMoved(null);
    refresh();
  };
  const requests = status.friends.filter((f) => f.state === "incoming" || f.state === "held").length;
  return (
    <main class={layout}>
      <header class="row top">
        <h1>{t("app.name")}</h1>
        <span class="who">{status.account}</span>
        {status.connection === "removed" ? null : (
          <span class={`connection ${status.connection}`} role="status">{t(status.connection === "online" ? "ext.online" : status.connection === "connecting" ? "ext.connecting" : "ext.offline")}</span>
        )}
      </header>
      {status.connection === "removed" ? <RemovedDeviceNotice address={self} busy={forgetting} error={forgetError} onForget={(choice) => void forget(choice)} t={t} /> : null}
      {banner ? <div class={`banner ${banner.tone}`} role="status" data-testid="banner">{banner.text}</div> : null}
      {moved ? <MoveSummary lines={importSummary(moved, t)} onDismiss={() => setMoved(null)} t={t} /> : null}
      {chats?.conversation ? (
        <Chat key={chats.conversation.target} chats={chats} conversation={chats.conversation} onSafety={showSafety} />
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
          {tab === "chats" && chats && <Chats self={self} chats={chats} friends={status.friends} />}
          {tab === "friends" && chats && trust && <Friends self={self} friends={status.friends} people={chats.people} trust={trust} onOpenChat={openChat} onSafety={showSafety} />}
          {tab === "favorites" && favorites && <FavoritesList favorites={favorites} t={t} onOpen={openChat} />}
          {tab === "settings" && devices && (
            <Settings self={self} devices={devices} onDeleted={() => {
              setDeleted(true);
              setMoved(null);
              setTab("chats");
              refresh();
            }} />
          )}
        </>
      )}
      {/* No scanner: Chrome shows no camera prompt in a side panel or popup, so numbers are compared and our code shown. */}
      {safety ? <SafetyDialog key={safety.address} safety={safety} self={self} t={t} onClose={() => setSafety(null)} /> : null}
    </main>
  );
}
