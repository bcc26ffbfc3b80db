import { useState } from "preact/hooks";
import type { Translate } from "../i18n/translate.js";
import { deletionConfirmed } from "../view-models/settings-form.js";

/**
 * Settings → Delete account, in both clients: it goes only once the whole address is typed.
 * `error`: why the last try failed, for a client that shows it here rather than app-wide.
 */
export function DeleteAccountForm({ address, domain, busy, error = null, onDelete, t }: { address: string; domain: string; busy: boolean; error?: string | null; onDelete(): void; t: Translate }) {
  const [confirm, setConfirm] = useState("");
  const confirmed = deletionConfirmed(confirm, address);
  return (
    <form class="card danger-zone" data-testid="delete-account" onSubmit={(e) => { e.preventDefault(); if (confirmed) onDelete(); }}>
      <h3>{t("settings.delete")}</h3>
      <p class="hint">{t("settings.deleteHint", { domain })}</p>
      <div class="field">
        <label for="delete-confirm">{t("settings.deleteConfirm", { address })}</label>
        <input id="delete-confirm" type="text" autoComplete="off" spellcheck={false} value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} />
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      <div><button type="submit" class="danger solid" disabled={!confirmed || busy}>{t("settings.deleteButton")}</button></div>
    </form>
  );
}
