import { useState } from "preact/hooks";
import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import { isLinkCode, linkFormCheck } from "../../../ui/view-models/link-form.js";
import { QrScanner } from "./qr-scanner.js";

/** Onboarding's other path: this browser becomes a new device of an account the user already has. */
export function LinkDeviceForm({ app, onBack }: { app: AppViewModel; onBack: () => void }) {
  const t = app.t;
  const [code, setCode] = useState("");
  const [protect, setProtect] = useState(false);
  const [pass, setPass] = useState("");
  const [again, setAgain] = useState("");
  const [scanning, setScanning] = useState(false);
  const check = linkFormCheck({ code, protect, passphrase: pass, again });

  const submit = (event: Event) => {
    event.preventDefault();
    if (check.ready) void app.linkDevice(code, protect ? pass : null);
  };

  return (
    <form class="stack" onSubmit={submit} aria-busy={app.busy} data-testid="link-form">
      <h2>{t("link.title")}</h2>
      <p class="muted">{t("link.lead")}</p>
      <div class="field">
        <label for="link-code-input">{t("link.code")}</label>
        <textarea id="link-code-input" class="code" rows={3} autoCapitalize="none" spellcheck={false} value={code} onInput={(e) => setCode(e.currentTarget.value)} aria-describedby="link-code-hint" required />
        <span id="link-code-hint" class="hint">{t("link.codeHint")}</span>
        {check.codeError && code.trim() ? <span class="error" role="alert" data-testid="link-code-error">{t(check.codeError)}</span> : null}
      </div>
      {scanning ? (
        <QrScanner
          t={t}
          onCode={(text) => {
            // Other codes in view (a friend's, a web link) are passed over until the link code is seen.
            if (!isLinkCode(text)) return;
            setCode(text.trim());
            setScanning(false);
          }}
          onCancel={() => setScanning(false)}
        />
      ) : (
        <button type="button" onClick={() => setScanning(true)}>{t("link.scan")}</button>
      )}
      {check.address ? <p class="preview-address" aria-live="polite">{check.address}</p> : null}
      <label class="check">
        <input type="checkbox" checked={protect} onChange={(e) => setProtect(e.currentTarget.checked)} />
        <span>{t("onboarding.protect")}</span>
      </label>
      {protect ? (
        <div class="stack">
          <div class="field">
            <label for="link-pass">{t("onboarding.passphrase")}</label>
            <input id="link-pass" type="password" autoComplete="new-password" value={pass} onInput={(e) => setPass(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="link-again">{t("onboarding.passphraseAgain")}</label>
            <input id="link-again" type="password" autoComplete="new-password" value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
            {check.passError && again ? <span class="error" role="alert">{t(check.passError)}</span> : null}
          </div>
        </div>
      ) : null}
      {app.error ? <p class="error" role="alert">{app.error}</p> : null}
      <button class="primary" type="submit" disabled={!check.ready || app.busy}>
        {app.busy ? t("link.linking") : t("link.submit")}
      </button>
      <button type="button" class="ghost" onClick={onBack}>{t("link.back")}</button>
    </form>
  );
}
