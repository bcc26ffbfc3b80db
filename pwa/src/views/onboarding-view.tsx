import { useState } from "preact/hooks";
import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import { onboardingCheck } from "../../../ui/view-models/onboarding-form.js";
import { LinkDeviceForm } from "./link-device-form.js";
import { MoveHereForm } from "./move-here-form.js";

export function OnboardingView({ app }: { app: AppViewModel }) {
  const t = app.t;
  const [name, setName] = useState("");
  const [protect, setProtect] = useState(false);
  const [pass, setPass] = useState("");
  const [again, setAgain] = useState("");
  const [linking, setLinking] = useState(app.onboardingStart === "link");
  const [moving, setMoving] = useState(false);
  const check = onboardingCheck({ name, domain: app.domain, protect, passphrase: pass, again });
  // Nothing typed yet is no mistake: the hint says the rule.
  const nameError = name ? check.nameError : null;

  const submit = (event: Event) => {
    event.preventDefault();
    if (check.ready) void app.register(check.name, protect ? pass : null);
  };

  return (
    <main class="welcome">
      <div class="card">
        <img class="logo" src="/icons/icon-192.png" alt="" width={56} height={56} />
        <h1>{t("onboarding.title")}</h1>
        {moving ? <MoveHereForm app={app} onBack={() => setMoving(false)} /> : linking ? <LinkDeviceForm app={app} onBack={() => setLinking(false)} /> : (
        <>
        <p class="muted">{t("onboarding.lead", { domain: app.domain })}</p>
        <form class="stack" onSubmit={submit} aria-busy={app.busy}>
            <div class="field">
              <label for="name">{t("onboarding.name")}</label>
              <input id="name" type="text" autoComplete="username" autoCapitalize="none" spellcheck={false} value={name} onInput={(e) => setName(e.currentTarget.value)} aria-describedby="name-hint" required />
              <span id="name-hint" class={nameError ? "error" : "hint"} role={nameError ? "alert" : undefined}>{t(nameError ?? "onboarding.nameHint")}</span>
            </div>
            {check.address ? <p class="preview-address" aria-live="polite">{t("onboarding.preview", { address: check.address })}</p> : null}
            <label class="check">
              <input type="checkbox" checked={protect} onChange={(e) => setProtect(e.currentTarget.checked)} />
              <span>{t("onboarding.protect")}</span>
            </label>
            {protect ? (
              <div class="stack">
                <div class="field">
                  <label for="pass">{t("onboarding.passphrase")}</label>
                  <input id="pass" type="password" autoComplete="new-password" value={pass} onInput={(e) => setPass(e.currentTarget.value)} aria-describedby="pass-hint" />
                </div>
                <div class="field">
                  <label for="again">{t("onboarding.passphraseAgain")}</label>
                  <input id="again" type="password" autoComplete="new-password" value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
                  <span id="pass-hint" class="hint">{t("onboarding.passphraseHint")}</span>
                  {check.passError && again ? <span class="error" role="alert">{t(check.passError)}</span> : null}
                </div>
              </div>
            ) : null}
            {app.error ? <p class="error" role="alert">{app.error}</p> : null}
            <button class="primary" type="submit" disabled={!check.ready || app.busy}>
              {app.busy ? t("onboarding.creating") : t("onboarding.create")}
            </button>
            <p class="hint">{t("onboarding.keysNote")}</p>
          </form>
          <button type="button" class="ghost" onClick={() => setLinking(true)}>{t("onboarding.linkInstead")}</button>
          <button type="button" class="ghost" onClick={() => setMoving(true)}>{t("move.instead")}</button>
        </>
        )}
      </div>
    </main>
  );
}

export function UnlockView({ app }: { app: AppViewModel }) {
  const t = app.t;
  const [pass, setPass] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    void app.unlock(pass);
  };
  return (
    <main class="welcome">
      <form class="card" onSubmit={submit} aria-busy={app.busy}>
        <img class="logo" src="/icons/icon-192.png" alt="" width={56} height={56} />
        <h1>{t("unlock.title")}</h1>
        <p class="muted">{t("unlock.lead")}</p>
        <div class="field">
          <label for="unlock-pass">{t("onboarding.passphrase")}</label>
          <input id="unlock-pass" type="password" autoComplete="current-password" value={pass} onInput={(e) => setPass(e.currentTarget.value)} autoFocus />
        </div>
        {app.error ? <p class="error" role="alert">{app.error}</p> : null}
        <button class="primary" type="submit" disabled={!pass || app.busy}>
          {app.busy ? t("common.working") : t("unlock.submit")}
        </button>
      </form>
    </main>
  );
}
