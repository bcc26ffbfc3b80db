import { useState } from "preact/hooks";
import { ask } from "./panel-api.js";
import { t } from "./i18n.js";

/** First run: choose an address and, for a server not at https://DOMAIN, where it lives. */
export function Setup({ queued, onDone }: { queued: string[]; onDone(): void }) {
  const [address, setAddress] = useState("");
  const [server, setServer] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    const reply = await ask({ type: "register", address, ...(server.trim() ? { server: server.trim() } : {}) });
    setBusy(false);
    if (reply.ok) onDone();
    else setError(reply.message);
  };
  return (
    <form class="setup" onSubmit={submit}>
      <h2>{t("onboarding.title")}</h2>
      <p>{t("app.tagline")}</p>
      <label>
        Your EMSG address
        <input value={address} onInput={(e) => setAddress(e.currentTarget.value)} placeholder="name#im.example.com" required autocomplete="off" />
      </label>
      <label>
        Server URL (optional, when it is not https:// and the part after #)
        <input value={server} onInput={(e) => setServer(e.currentTarget.value)} placeholder="https://im.example.com" autocomplete="off" />
      </label>
      <p class="hint">{t("onboarding.keysNote")}</p>
      {error && <p role="alert">{error}</p>}
      <button type="submit" disabled={busy}>{busy ? t("onboarding.creating") : t("onboarding.create")}</button>
      {queued.length > 0 && (
        <section aria-label="Waiting to be added">
          <h3>Waiting to be added</h3>
          <ul>{queued.map((a) => <li key={a}>{a}</li>)}</ul>
        </section>
      )}
    </form>
  );
}
