import { useState } from "preact/hooks";
import { MoveInForm } from "./move-in-form.js";
import { ask } from "./panel-api.js";
import { t } from "./i18n.js";
import type { ImportResult } from "../../ui/view-models/core-types.js";
import { linkFormCheck } from "../../ui/view-models/link-form.js";

/**
 * First run: choose an address and, for a server not at https://DOMAIN, where it lives; link this
 * extension as a device of an account the user already has (e.g. in the PWA); or move an exported
 * account in as a new address, as the PWA's onboarding offers.
 */
export function Setup({ queued, onDone, link = false }: { queued: string[]; onDone(moved?: ImportResult): void; link?: boolean }) {
  const [linking, setLinking] = useState(link);
  const [address, setAddress] = useState("");
  const [code, setCode] = useState("");
  const [server, setServer] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [moving, setMoving] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    // Said here, in the person's words: the background's reason would spell out the code's format.
    const codeError = linking ? linkFormCheck({ code, protect: false, passphrase: "", again: "" }).codeError : null;
    if (codeError) return setError(t(codeError));
    setBusy(true);
    setError("");
    const where = server.trim() ? { server: server.trim() } : {};
    const reply = linking ? await ask({ type: "link", code: code.trim(), ...where }) : await ask({ type: "register", address, ...where });
    setBusy(false);
    if (reply.ok) onDone();
    else setError(reply.message);
  };
  if (moving) return <MoveInForm onDone={onDone} onBack={() => setMoving(false)} />;
  return (
    <form class="setup" onSubmit={submit}>
      <h2>{linking ? t("link.title") : t("onboarding.title")}</h2>
      <p>{linking ? t("link.lead") : t("app.tagline")}</p>
      {linking ? (
        <label>
          {t("link.code")}
          <textarea value={code} onInput={(e) => setCode(e.currentTarget.value)} placeholder="emsg-link:1:…" rows={3} required spellcheck={false} />
        </label>
      ) : (
        <label>
          {t("ext.setup.address")}
          <input value={address} onInput={(e) => setAddress(e.currentTarget.value)} placeholder="name#im.example.com" required autocomplete="off" />
        </label>
      )}
      <label>
        {t("ext.setup.server")}
        <input value={server} onInput={(e) => setServer(e.currentTarget.value)} placeholder="https://im.example.com" autocomplete="off" />
      </label>
      <p class="hint">{linking ? t("link.codeHint") : t("onboarding.keysNote")}</p>
      {error && <p role="alert">{error}</p>}
      {linking ? (
        <button type="submit" disabled={busy}>{busy ? t("link.linking") : t("link.submit")}</button>
      ) : (
        <button type="submit" disabled={busy}>{busy ? t("onboarding.creating") : t("onboarding.create")}</button>
      )}
      <button type="button" class="quiet" onClick={() => { setLinking(!linking); setError(""); }}>
        {linking ? t("link.back") : t("onboarding.linkInstead")}
      </button>
      {linking ? null : <button type="button" class="quiet" onClick={() => setMoving(true)}>{t("move.instead")}</button>}
      {queued.length > 0 && (
        <section aria-label={t("ext.setup.waiting")}>
          <h3>{t("ext.setup.waiting")}</h3>
          <ul>{queued.map((a) => <li key={a}>{a}</li>)}</ul>
        </section>
      )}
    </form>
  );
}
