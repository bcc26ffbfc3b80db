import { useEffect, useRef, useState } from "preact/hooks";
import type { Translate } from "../../../ui/i18n/translate.js";
import { scanQr } from "../platform/qr-camera.js";

/** The camera view while scanning someone's code; `onCode` gets the text, `onCancel` closes it. */
export function QrScanner({ t, onCode, onCancel }: { t: Translate; onCode(text: string): void; onCancel(): void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stop = () => {};
    let live = true;
    scanQr(video.current!, (text) => live && onCode(text)).then(
      (scan) => {
        if (live) stop = scan.stop;
        else scan.stop();
      },
      () => live && setError(t("scan.noCamera")),
    );
    return () => {
      live = false;
      stop();
    };
  }, []);
  return (
    <div class="scanner" role="group" aria-label={t("scan.title")}>
      <video ref={video} class="scanner-video" aria-label={t("scan.camera")} />
      {error ? <p class="error" role="alert">{error}</p> : <p class="hint">{t("scan.hint")}</p>}
      <button type="button" onClick={onCancel}>{t("scan.cancel")}</button>
    </div>
  );
}
