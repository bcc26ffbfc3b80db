import type { AppViewModel, Tab } from "../../../ui/view-models/app-model.js";
import type { MessageKey } from "../../../ui/i18n/en.js";
import { ChatsView } from "./chats-view.js";
import { FriendsView } from "./friends-view.js";
import { FavoritesView } from "./favorites-view.js";
import { SettingsView } from "./settings-view.js";
import { SafetyDialog } from "../../../ui/views/safety-dialog.js";
import { QrScanner } from "./qr-scanner.js";
import { useModel } from "../../../ui/views/use-model.js";
import { Icon, type IconName } from "../../../ui/views/icons.js";
import { RemovedDeviceNotice } from "../../../ui/views/removed-device.js";
import { MoveSummary } from "../../../ui/views/import-form.js";

const TABS: readonly { id: Tab; label: MessageKey; icon: IconName }[] = [
  { id: "chats", label: "nav.chats", icon: "chats" },
  { id: "friends", label: "nav.friends", icon: "friends" },
  { id: "favorites", label: "nav.favorites", icon: "star" },
  { id: "settings", label: "nav.settings", icon: "settings" },
];

/** styles.css's phone layout, where the chat list and an open chat take turns on the screen. */
const PHONE = "(max-width: 760px)";

export function ShellView({ app }: { app: AppViewModel }) {
  useModel(app);
  const t = app.t;
  const banner = app.banner;
  const moved = app.moveSummary;
  // On a phone the Chats tab leads back to the list from an open chat, as in every messenger.
  const show = (tab: Tab) => {
    if (tab === "chats" && matchMedia(PHONE).matches) app.chats?.close();
    app.showTab(tab);
  };
  const badge = (tab: Tab) => (tab === "chats" ? app.unreadTotal : tab === "friends" ? app.pendingRequests : 0);
  return (
    <div class="shell">
      <div class="banner-slot" aria-live="polite" style={{ gridColumn: "1 / -1" }}>
        {app.removed ? (
          <RemovedDeviceNotice address={app.address} busy={app.busy} error={app.error} onForget={(choice) => void app.forgetRemovedDevice(choice)} t={t} />
        ) : banner ? <div class={`banner ${banner.tone}`} role="status" data-testid="banner">{banner.text}</div> : null}
        {moved ? <MoveSummary lines={moved} onDismiss={() => app.dismissMoveSummary()} t={t} /> : null}
      </div>
      <nav class="rail" aria-label={t("nav.main")}>
        <img class="brand" src="/icons/icon-192.png" alt={t("app.name")} width={40} height={40} />
        {TABS.map((tab) => (
          <button key={tab.id} type="button" aria-current={app.tab === tab.id ? "page" : undefined} onClick={() => show(tab.id)}>
            <Icon name={tab.icon} size={22} />
            {t(tab.label)}
            {badge(tab.id) > 0 ? (
              <span class="dot">
                <span aria-hidden="true">{badge(tab.id)}</span>
                <span class="visually-hidden">{t(tab.id === "chats" ? "chats.unread" : "friends.pending", { count: badge(tab.id) })}</span>
              </span>
            ) : null}
          </button>
        ))}
      </nav>
      {app.tab === "chats" && app.chats ? <ChatsView app={app} chats={app.chats} /> : null}
      {app.tab === "friends" && app.friends ? <FriendsView app={app} friends={app.friends} /> : null}
      {app.tab === "favorites" && app.favorites ? <FavoritesView app={app} favorites={app.favorites} /> : null}
      {app.tab === "settings" && app.settings ? <SettingsView app={app} settings={app.settings} /> : null}
      {app.safety ? (
        <SafetyDialog key={app.safety.address} safety={app.safety} self={app.address} t={t} onClose={() => app.closeSafety()}
          scanner={({ onCode, onCancel }) => <QrScanner t={t} onCode={onCode} onCancel={onCancel} />} />
      ) : null}
    </div>
  );
}
