import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import type { SettingsViewModel, Strangers } from "../../../ui/view-models/settings-model.js";
import { RETENTION_CHOICES, readRetention, retentionLabel, retentionValue } from "../../../ui/view-models/settings-form.js";
import { LOCALES, isLocale } from "../../../ui/i18n/translate.js";
import type { MessageKey } from "../../../ui/i18n/en.js";
import { useModel } from "../../../ui/views/use-model.js";
import { DevicesSection } from "../../../ui/views/devices-section.js";
import { ImportSection } from "../../../ui/views/import-form.js";
import { ExtensionSection } from "./extension-section.js";
import { ProfileSection } from "../../../ui/views/profile-section.js";
import { DeleteAccountForm } from "../../../ui/views/delete-account-form.js";
import { ExportForm } from "../../../ui/views/export-form.js";

const STRANGERS: readonly { id: Strangers; label: MessageKey }[] = [
  { id: "accept", label: "settings.strangers.accept" },
  { id: "review", label: "settings.strangers.review" },
  { id: "refuse", label: "settings.strangers.refuse" },
];

export function SettingsView({ app, settings }: { app: AppViewModel; settings: SettingsViewModel }) {
  useModel(settings);
  const t = app.t;

  return (
    <div class="main">
      <div class="page">
        <div class="page-inner">
          <h1>{t("settings.title")}</h1>
          {settings.error ? <p class="error" role="alert">{settings.error}</p> : null}

          <ProfileSection profile={settings.profile} t={t} />

          <section class="card">
            <label for="language"><h3>{t("settings.language")}</h3></label>
            <select id="language" value={app.locale} onChange={(e) => isLocale(e.currentTarget.value) && app.setLocale(e.currentTarget.value)}>
              {LOCALES.map((l) => <option key={l.id} value={l.id} lang={l.id}>{l.label}</option>)}
            </select>
          </section>

          <fieldset class="card" style={{ margin: 0 }}>
            <legend class="visually-hidden">{t("settings.strangers")}</legend>
            <h3 aria-hidden="true">{t("settings.strangers")}</h3>
            <div class="segmented">
              {STRANGERS.map((s) => (
                <label key={s.id}>
                  <input type="radio" name="strangers" value={s.id} checked={settings.strangers === s.id} onChange={() => void settings.setStrangers(s.id)} />
                  {t(s.label)}
                </label>
              ))}
            </div>
            {settings.saved ? <span class="ok" aria-live="polite">{t("settings.saved")}</span> : null}
          </fieldset>

          <section class="card">
            <label for="retention"><h3>{t("settings.retention")}</h3></label>
            <select id="retention" value={retentionValue(settings.retentionDays)} onChange={(e) => void settings.setRetention(readRetention(e.currentTarget.value))}>
              {RETENTION_CHOICES.map((d) => <option key={retentionValue(d)} value={retentionValue(d)}>{retentionLabel(d, t)}</option>)}
            </select>
            <p class="hint">{t("settings.retentionHint")}</p>
          </section>

          <section class="card">
            <label class="check">
              <input type="checkbox" checked={settings.readReceipts} onChange={(e) => void settings.setReadReceipts(e.currentTarget.checked)} />
              <h3>{t("settings.readReceipts")}</h3>
            </label>
            <p class="hint">{t("settings.readReceiptsHint")}</p>
          </section>

          <section class="card">
            <h3>{t("settings.notifications")}</h3>
            {settings.notifications === "granted" ? <p class="ok">{t("settings.notifications.on")}</p> : null}
            {settings.notifications === "denied" ? <p class="hint">{t("settings.notifications.denied")}</p> : null}
            {settings.notifications === "default" ? <button type="button" onClick={() => void settings.enableNotifications()}>{t("settings.notifications.enable")}</button> : null}
          </section>

          <DevicesSection devices={settings.devices} t={t} clock={() => app.now()} />

          <ExtensionSection t={t} />

          <ExportForm exporter={settings.exporter} t={t} />

          <ImportSection importer={settings.importer} address={app.address} t={app.t} />

          <DeleteAccountForm address={app.address} domain={app.domain} busy={app.busy} onDelete={() => void app.deleteAccount()} t={t} />
        </div>
      </div>
    </div>
  );
}
