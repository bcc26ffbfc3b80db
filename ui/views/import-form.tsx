import { useState } from "preact/hooks";
import type { Translate } from "../i18n/translate.js";
import type { ImportViewModel } from "../view-models/account-import.js";
import { useModel } from "./use-model.js";

/**
 * The export file to move in, read as text by the view model; both clients' move-in forms share it.
 * A button like the app's others over a hidden file input (still focused and opened by keyboard),
 * the chosen file's name beside it, rather than the browser's own "Choose File" control.
 */
export function ArchivePicker({ importer, id, t }: { importer: ImportViewModel; id: string; t: Translate }) {
  useModel(importer);
  return (
    <div class="field">
      <label for={`${id}-file`}>{t("move.file")}</label>
      <div class="row file-pick">
        <label class="button">
          {t("move.chooseFile")}
          <input id={`${id}-file`} type="file" accept=".emsg,application/json" class="visually-hidden"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file) void importer.chooseFile(file.name, () => file.text());
            }} />
        </label>
        <span class="hint ellipsis" data-testid={`${id}-file-name`}>{importer.fileName ?? t("move.noFile")}</span>
      </div>
    </div>
  );
}

/** The passphrase the export file was sealed with. */
export function ArchivePassphrase({ id, value, onInput, t }: { id: string; value: string; onInput: (value: string) => void; t: Translate }) {
  return (
    <div class="field">
      <label for={`${id}-pass`}>{t("move.passphrase")}</label>
      <input id={`${id}-pass`} type="password" autoComplete="current-password" value={value} onInput={(e) => onInput(e.currentTarget.value)} />
    </div>
  );
}

/** Progress while the import runs, and why it failed. */
export function ImportStatus({ importer, id }: { importer: ImportViewModel; id: string }) {
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

/** Settings → move an old account into this one (`address`), in both clients. */
export function ImportSection({ importer, address, t }: { importer: ImportViewModel; address: string; t: Translate }) {
  useModel(importer);
  const [pass, setPass] = useState("");
  const ready = importer.hasFile && pass.length > 0 && !importer.running;
  return (
    <form class="card" data-testid="import-section" aria-busy={importer.running} onSubmit={(e) => { e.preventDefault(); if (ready) void importer.start(pass); }}>
      <h3>{t("move.settingsTitle")}</h3>
      <p class="hint">{t("move.settingsLead", { address })}</p>
      <ArchivePicker importer={importer} id="import" t={t} />
      <ArchivePassphrase id="import" value={pass} onInput={setPass} t={t} />
      <ImportStatus importer={importer} id="import" />
      <MoveOutcome lines={importer.summary} />
      <div><button type="submit" class="primary" disabled={!ready}>{importer.running ? t("common.working") : t("move.submit")}</button></div>
    </form>
  );
}

/** What a finished move says (importSummary): that it worked, then what still needs the person's attention. */
function MoveOutcome({ lines }: { lines: readonly string[] }) {
  const [done, ...warnings] = lines;
  if (done === undefined) return null;
  return (
    <>
      <p class="ok">{done}</p>
      {warnings.map((line) => <p key={line} class="warn-text">{line}</p>)}
    </>
  );
}

/**
 * A move made at setup, said once the app opens on the new account (the setup form is gone by
 * then): what came along and what did not, until the person dismisses it.
 */
export function MoveSummary({ lines, onDismiss, t }: { lines: readonly string[]; onDismiss: () => void; t: Translate }) {
  return (
    <section class={`move-summary ${lines.length > 1 ? "warn" : "info"}`} role="status" aria-labelledby="move-summary-title" data-testid="move-summary">
      <h3 id="move-summary-title">{t("move.summaryTitle")}</h3>
      <MoveOutcome lines={lines} />
      <div><button type="button" onClick={onDismiss}>{t("move.summaryDismiss")}</button></div>
    </section>
  );
}
