import { useEffect, useState } from "preact/hooks";
import type { Translate } from "../i18n/translate.js";
import { countdown, type DevicesViewModel } from "../view-models/devices-model.js";
import { logFailure } from "../view-models/log-failure.js";
import { useModel } from "./use-model.js";

/** Settings → Devices, in both clients: the account's devices, linking a new one with a code and QR, and removal. */
export function DevicesSection({ devices, t, clock }: { devices: DevicesViewModel; t: Translate; clock: () => number }) {
  useModel(devices);
  const [now, setNow] = useState(clock());
  const [copied, setCopied] = useState(false);
  const offer = devices.offer;
  // The countdown ticks while a code is on screen.
  useEffect(() => {
    if (!offer) return undefined;
    setCopied(false);
    const timer = setInterval(() => setNow(clock()), 1000);
    return () => clearInterval(timer);
  }, [offer]);

  const copy = () => {
    if (!offer) return;
    // Refused (no permission, page not focused): the code stays on screen to type or scan.
    void navigator.clipboard?.writeText(offer.code).then(() => setCopied(true), logFailure("the link code was not copied"));
  };

  return (
    <section class="card" data-testid="devices">
      <h3>{t("settings.devices")}</h3>
      {devices.error ? <p class="error" role="alert">{devices.error}</p> : null}
      {devices.rows.map((d) => (
        <div key={d.deviceId} class="person" data-testid="device">
          <div class="grow">
            <strong>{d.label}</strong> {d.current ? <span class="tag">{t("settings.thisDevice")}</span> : null}
            <div class="hint">{t("settings.added", { date: d.added })}</div>
          </div>
          {d.current ? null : devices.removing === d.deviceId ? (
            <div class="actions">
              <span class="hint">{t("settings.removeAsk", { label: d.label })}</span>
              <button type="button" class="danger solid" disabled={devices.busy} onClick={() => void devices.remove(d.deviceId)}>{t("settings.removeDevice")}</button>
              <button type="button" onClick={() => devices.askRemove(null)}>{t("settings.removeCancel")}</button>
            </div>
          ) : (
            <div class="actions">
              <button type="button" class="danger" onClick={() => devices.askRemove(d.deviceId)}>{t("settings.removeDevice")}</button>
            </div>
          )}
        </div>
      ))}
      {devices.linked ? <p class="ok" role="status">{t("settings.linkDone", { label: devices.linked })}</p> : null}
      {offer ? (
        <div class="stack" data-testid="link-offer">
          <p class="hint">{t("settings.linkLead")}</p>
          <div class="qr" role="img" aria-label={t("settings.linkQr")} dangerouslySetInnerHTML={{ __html: offer.qrSvg }} />
          <label for="link-code">{t("settings.linkCode")}</label>
          <textarea id="link-code" class="code" readOnly rows={3} value={offer.code} spellcheck={false} onFocus={(e) => e.currentTarget.select()} />
          {devices.expired(now) ? (
            <p class="error" role="alert">{t("settings.linkExpired")}</p>
          ) : (
            <p class="hint" aria-live="off">{t("settings.linkExpires", { time: countdown(offer.expires, now) })}</p>
          )}
          <div class="row">
            <button type="button" onClick={copy}>{copied ? t("settings.linkCopied") : t("settings.linkCopy")}</button>
            {devices.expired(now) ? <button type="button" onClick={() => void devices.startLink()}>{t("settings.linkAgain")}</button> : null}
            <button type="button" onClick={() => devices.closeLink()}>{t("settings.linkClose")}</button>
          </div>
        </div>
      ) : (
        <div><button type="button" class="primary" disabled={devices.busy} onClick={() => void devices.startLink()}>{t("settings.linkDevice")}</button></div>
      )}
    </section>
  );
}
