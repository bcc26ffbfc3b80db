import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Address } from "../../shared/address.js";
import type { Translate } from "../i18n/translate.js";
import type { SafetyViewModel } from "../view-models/safety-model.js";
import type { ScanVerdict } from "../view-models/scanned-code.js";
import { useModel } from "./use-model.js";

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

/** A camera reading the friend's code: the client's own, as only it knows its cameras. */
export type Scanner = (props: { onCode(text: string): void; onCancel(): void }) => ComponentChildren;

/**
 * The safety number with a friend, our code for their device to scan, and the verified mark, in
 * both clients. A modal <dialog>: focus is trapped by the browser and Escape closes it. Without a
 * `scanner` the numbers are compared by eye (and our code shown), which is as safe, only slower.
 */
export function SafetyDialog({ safety, self, t, onClose, scanner }: { safety: SafetyViewModel; self: Address; t: Translate; onClose(): void; scanner?: Scanner }) {
  useModel(safety);
  const ref = useRef<HTMLDialogElement>(null);
  const [scanning, setScanning] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} class="safety-dialog" onClose={onClose} aria-labelledby="safety-title" data-testid="safety-dialog">
      <div class="dialog-body">
        <h2 id="safety-title">{t("safety.title", { address: safety.address })}</h2>
        <p class="muted">{t(scanner ? "safety.lead" : "safety.leadCompare", { address: safety.address })}</p>
        {safety.error ? <p class="error" role="alert">{safety.error}</p> : null}
        {safety.rows.length > 0 ? (
          <div class="safety-grid" data-testid="safety-number" aria-label={safety.groups.join(" ")}>
            {safety.rows.flat().map((group, i) => <span key={i}>{group}</span>)}
          </div>
        ) : null}
        {safety.qrSvg ? <div class="qr" role="img" aria-label={t("safety.qr", { address: self })} dangerouslySetInnerHTML={{ __html: safety.qrSvg }} /> : null}
        {scanner && scanning
          ? scanner({
              onCode: (text) => {
                setScanning(false);
                void safety.scanned(text);
              },
              onCancel: () => setScanning(false),
            })
          : null}
        {safety.scan ? <ScanResult t={t} verdict={safety.scan} friend={safety.address} /> : null}
        <div class="row wrap" style={{ justifyContent: "flex-end" }}>
          {scanner ? <button type="button" disabled={safety.rows.length === 0 || scanning} onClick={() => setScanning(true)}>{t("safety.scan")}</button> : null}
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
