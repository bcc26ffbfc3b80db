import { useEffect, useMemo, useState } from "preact/hooks";
import { type Address, domainOf } from "../../shared/address.js";
import { AccountExportViewModel } from "../../ui/view-models/account-export.js";
import { ImportViewModel } from "../../ui/view-models/account-import.js";
import type { DevicesViewModel } from "../../ui/view-models/devices-model.js";
import { ProfileViewModel } from "../../ui/view-models/profile-model.js";
import { DeleteAccountForm } from "../../ui/views/delete-account-form.js";
import { DevicesSection } from "../../ui/views/devices-section.js";
import { ExportForm } from "../../ui/views/export-form.js";
import { ImportSection } from "../../ui/views/import-form.js";
import { ProfileSection } from "../../ui/views/profile-section.js";
import { saveTextFile } from "../../ui/views/save-file.js";
import { importedAccount, sealedExport } from "./remote-client.js";
import { answered } from "./group-requests.js";
import { readRetention, RETENTION_CHOICES, retentionLabel, retentionValue } from "../../ui/view-models/settings-form.js";
import type { SettingsView } from "../messaging/messages.js";
import { ask } from "./panel-api.js";
import { t } from "./i18n.js";

/** The display name and avatar form (PROTOCOL §8.2), asking the background, which holds the core. */
function remoteProfile(self: Address): ProfileViewModel {
  return new ProfileViewModel({
    address: self,
    profile: async () => answered(await ask({ type: "profile" })).profile ?? undefined,
    setProfile: async (name, avatar) => answered(await ask({ type: "set-profile", name, ...(avatar === undefined ? {} : { avatar }) })).profile,
  });
}

/** `onDeleted`: the account is gone, on its server and from this browser. */
export function Settings({ self, devices, onDeleted }: { self: Address; devices: DevicesViewModel; onDeleted(): void }) {
  const [settings, setSettings] = useState<SettingsView | null>(null);
  const [status, setStatus] = useState("");
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const profile = useMemo(() => remoteProfile(self), [self]);
  // Sealed in the background, which holds the keys; the file is saved from this page.
  const exporter = useMemo(() => new AccountExportViewModel({ seal: sealedExport, save: saveTextFile }, () => self, Date.now), [self]);
  // Moved in by the background; the archive's friends and chats then reach the lists as the core's events.
  const importer = useMemo(() => new ImportViewModel(() => t, (archive, passphrase, _name, onStep) => importedAccount(archive, passphrase, {}, onStep)), []);
  useEffect(() => {
    void ask({ type: "settings" }).then((reply) => (reply.ok ? setSettings(reply.settings) : setStatus(reply.message)));
    void profile.load();
    void devices.load();
  }, []);
  const deleteAccount = async () => {
    setDeleting(true);
    setDeleteError(null);
    const reply = await ask({ type: "delete-account" });
    setDeleting(false);
    if (reply.ok) onDeleted();
    else setDeleteError(reply.message);
  };
  const save = async (change: Partial<SettingsView>) => {
    const reply = await ask({ type: "set-settings", ...change });
    if (reply.ok) setSettings(reply.settings);
    setStatus(reply.ok ? t("settings.saved") : reply.message);
  };
  if (!settings) return <p role="status">{status || "…"}</p>;
  return (
    <section aria-label={t("settings.title")}>
      <ProfileSection profile={profile} t={t} />
      <label>
        {t("settings.strangers")}
        <select value={settings.strangers} onChange={(e) => save({ strangers: e.currentTarget.value as SettingsView["strangers"] })}>
          {(["accept", "review", "refuse"] as const).map((s) => (
            <option key={s} value={s}>{t(`settings.strangers.${s}`)}</option>
          ))}
        </select>
      </label>
      <label>
        {t("settings.retention")}
        <select value={retentionValue(settings.retentionDays)} onChange={(e) => save({ retentionDays: readRetention(e.currentTarget.value) })}>
          {RETENTION_CHOICES.map((d) => (
            <option key={String(d)} value={retentionValue(d)}>{retentionLabel(d, t)}</option>
          ))}
        </select>
      </label>
      <p class="hint">{t("settings.retentionHint")}</p>
      <p role="status">{status}</p>
      <DevicesSection devices={devices} t={t} clock={Date.now} />
      <ExportForm exporter={exporter} t={t} />
      <ImportSection importer={importer} address={self} t={t} />
      <DeleteAccountForm address={self} domain={domainOf(self)} busy={deleting} error={deleteError} onDelete={() => void deleteAccount()} t={t} />
    </section>
  );
}
