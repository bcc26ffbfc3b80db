import { useState } from "preact/hooks";
import type { Translate } from "../i18n/translate.js";
import type { AccountExportViewModel } from "../view-models/account-export.js";
import { PASSPHRASE_MIN } from "../view-models/onboarding-form.js";
import { useModel } from "./use-model.js";

/** Settings → Export account, in both clients: a passphrase, the sealing's progress, the file saved. */
export function ExportForm({ exporter, t }: { exporter: AccountExportViewModel; t: Translate }) {
  useModel(exporter);
  const [passphrase, setPassphrase] = useState("");
  return (
    <form class="card" data-testid="export-account" onSubmit={(e) => { e.preventDefault(); void exporter.run(passphrase); }}>
      <h3>{t("settings.export")}</h3>
      <p class="hint">{t("settings.exportHint")}</p>
      <div class="field">
        <label for="export-pass">{t("settings.exportPassphrase")}</label>
        <input id="export-pass" type="password" autoComplete="new-password" value={passphrase} onInput={(e) => setPassphrase(e.currentTarget.value)} />
      </div>
      {exporter.percent !== null ? (
        <div class="stack" aria-live="polite">
          <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={exporter.percent}><div style={{ width: `${exporter.percent}%` }} /></div>
          <span class="hint">{t("settings.exportProgress", { percent: exporter.percent })}</span>
        </div>
      ) : null}
      {exporter.error ? <p class="error" role="alert">{exporter.error}</p> : null}
      {exporter.file ? <p class="ok">{t("settings.exportDone", { file: exporter.file })}</p> : null}
      <div><button type="submit" class="primary" disabled={passphrase.length < PASSPHRASE_MIN || exporter.percent !== null}>{t("settings.exportStart")}</button></div>
    </form>
  );
}
