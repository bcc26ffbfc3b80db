import { useMemo, useState } from "preact/hooks";
import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import { ImportViewModel } from "../../../ui/view-models/account-import.js";
import { onboardingCheck } from "../../../ui/view-models/onboarding-form.js";
import { useModel } from "../../../ui/views/use-model.js";

/** The file picker both ways of moving an account in share. */
function ArchivePicker({ app, importer, id }: { app: AppViewModel; importer: ImportViewModel; id: string }) {
  return (
    <div class="field">
      <label for={`${id}-file`}>{app.t("move.file")}</label>
      <input id={`${id}-file`} type="file" accept=".emsg,application/json"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          if (file) void importer.chooseFile(file.name, () => file.text());
        }} />
    </div>
  );
}

/** Progress while the import runs, and why it failed. */
function ImportStatus({ importer, id }: { importer: ImportViewModel; id: string }) {
  return (
    <>
      {importer.progress !== null ? (
        <div class="stack" aria-live="polite">
          {importer.percent !== null ? (
            <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={importer.percent}><div style={{ width: `${importer.percent}%` }} /></div>
          ) : null}
          <span class="hint" data-testid={`${id}-progress`}>{importer.progress}</span>
        </div>
      ) : null}
      {importer.error ? <p class="error" role="alert">{importer.error}</p> : null}
    </>
  );
}

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
      <ArchivePicker app={app} importer={importer} id="move" />
      <div class="field">
        <label for="move-pass">{t("move.passphrase")}</label>
        <input id="move-pass" type="password" autoComplete="current-password" value={pass} onInput={(e) => setPass(e.currentTarget.value)} />
      </div>
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

/** Settings → move an old account into this one. */
export function ImportSection({ app, importer }: { app: AppViewModel; importer: ImportViewModel }) {
  useModel(importer);
  const t = app.t;
  const [pass, setPass] = useState("");
  const ready = importer.hasFile && pass.length > 0 && !importer.running;
  return (
    <form class="card" data-testid="import-section" aria-busy={importer.running} onSubmit={(e) => { e.preventDefault(); if (ready) void importer.start(pass); }}>
      <h3>{t("move.settingsTitle")}</h3>
      <p class="hint">{t("move.settingsLead", { address: app.address })}</p>
      <ArchivePicker app={app} importer={importer} id="import" />
      <div class="field">
        <label for="import-pass">{t("move.passphrase")}</label>
        <input id="import-pass" type="password" autoComplete="current-password" value={pass} onInput={(e) => setPass(e.currentTarget.value)} />
      </div>
      <ImportStatus importer={importer} id="import" />
      {importer.summary.map((line) => <p key={line} class="ok">{line}</p>)}
      <div><button type="submit" class="primary" disabled={!ready}>{importer.running ? t("common.working") : t("move.submit")}</button></div>
    </form>
  );
}
