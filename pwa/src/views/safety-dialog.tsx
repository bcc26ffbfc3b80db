import { useEffect, useRef, useState } from "preact/hooks";
import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import type { SafetyViewModel } from "../../../ui/view-models/safety-model.js";
import type { ScanVerdict } from "../../../ui/view-models/scanned-code.js";
import type { Translate } from "../../../ui/i18n/translate.js";
import { QrScanner } from "./qr-scanner.js";
import { useModel } from "../../../ui/views/use-model.js";

function ScanResult({ t, verdict, friend }: { t: Translate; verdict: ScanVerdict; friend: string }) {
  switch (verdict.kind) {
    case "match":
      return <p class="ok" role="status">{t("safety.match", { address: friend })}</p>;
    case "mismatch":
      return <p class="error" role="alert">{t("safety.mismatch", { address: friend })}</p>;
    case "other-person":
      return <p class="error" role="alert">{t("safety.otherPerson", { address: verdict.address, friend })}</p>;
    case "unreadable":
      return <p class="error" role="alert">{t("safety.unreadable")}</p>;
  }
}

/** A modal <dialog>: focus is trapped by the browser and Escape closes it. */
export function SafetyDialog({ app, safety }: { app: AppViewModel; safety: SafetyViewModel }) {
  useModel(safety);
  const t = app.t;
  const ref = useRef<HTMLDialogElement>(null);
  const [scanning, setScanning] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} onClose={() => app.closeSafety()} aria-labelledby="safety-title" data-testid="safety-dialog">
      <div class="dialog-body">
        <h2 id="safety-title">{t("safety.title", { address: safety.address })}</h2>
        <p class="muted">{t("safety.lead", { address: safety.address })}</p>
        {safety.error ? <p class="error" role="alert">{safety.error}</p> : null}
        {safety.rows.length > 0 ? (
          <div class="safety-grid" data-testid="safety-number" aria-label={safety.groups.join(" ")}>
            {safety.rows.flat().map((group, i) => <span key={i}>{group}</span>)}
          </div>
        ) : null}
        {safety.qrSvg ? <div class="qr" role="img" aria-label={t("safety.qr", { address: app.address })} dangerouslySetInnerHTML={{ __html: safety.qrSvg }} /> : null}
        {scanning ? (
          <QrScanner
            t={t}
            onCode={(text) => {
              setScanning(false);
              void safety.scanned(text);
            }}
            onCancel={() => setScanning(false)}
          />
        ) : null}
        {safety.scan ? <ScanResult t={t} verdict={safety.scan} friend={safety.address} /> : null}
        <div class="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" disabled={safety.rows.length === 0 || scanning} onClick={() => setScanning(true)}>{t("safety.scan")}</button>
          {safety.verified ? (
            <button type="button" onClick={() => void safety.setVerified(false)}>{t("safety.unmark")}</button>
          ) : (
            <button type="button" class="primary" disabled={safety.rows.length === 0} onClick={() => void safety.setVerified(true)}>{t("safety.markVerified")}</button>
          )}
          <button type="button" onClick={() => ref.current?.close()}>{t("safety.close")}</button>
        </div>
      </div>
    </dialog>
  );
}
