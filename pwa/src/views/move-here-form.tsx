import { useMemo, useState } from "preact/hooks";
import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import { ImportViewModel } from "../../../ui/view-models/account-import.js";
import { onboardingCheck } from "../../../ui/view-models/onboarding-form.js";
import { ArchivePassphrase, ArchivePicker, ImportStatus } from "../../../ui/views/import-form.js";
import { useModel } from "../../../ui/views/use-model.js";

/** Onboarding's "Move an account here": a new address on this server, with the old account's friends. */
export function MoveHereForm({ app, onBack }: { app: AppViewModel; onBack: () => void }) {
  const t = app.t;
  const [name, setName] = useState("");
  const [pass, setPass] = useState("");
  const importer = useMemo(() => new ImportViewModel(() => app.t, (archive, passphrase, chosen, onProgress) => app.moveHere(archive, passphrase, chosen, onProgress)), [app]);
  useModel(importer);
  const check = onboardingCheck({ name, domain: app.domain, protect: false, passphrase: "", again: "" });
  const ready = importer.hasFile && pass.length > 0 && check.ready && !importer.running;

  return (
    <form class="stack" data-testid="move-form" aria-busy={importer.running} onSubmit={(e) => { e.preventDefault(); if (ready) void importer.start(pass, check.name); }}>
      <h2>{t("move.title")}</h2>
      <p class="muted">{t("move.lead")}</p>
      <ArchivePicker importer={importer} id="move" t={t} />
      <ArchivePassphrase id="move" value={pass} onInput={setPass} t={t} />
      <ImportStatus importer={importer} id="move" />
      <div class="field">
        <label for="move-name">{t("move.name", { domain: app.domain })}</label>
        <input id="move-name" type="text" autoComplete="username" autoCapitalize="none" spellcheck={false} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        {check.nameError && name ? <span class="error" role="alert">{t(check.nameError)}</span> : null}
      </div>
      {check.address ? <p class="preview-address" aria-live="polite">{t("onboarding.preview", { address: check.address })}</p> : null}
      <button class="primary" type="submit" disabled={!ready}>{importer.running ? t("common.working") : t("move.submit")}</button>
      <button type="button" class="ghost" onClick={onBack}>{t("move.back")}</button>
    </form>
  );
}
