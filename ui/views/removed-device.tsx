import { useState } from "preact/hooks";
import type { Translate } from "../i18n/translate.js";
import type { RemovedChoice } from "../view-models/connectivity.js";

/**
 * What a device its account removed shows above its chats (as Signal does for an unlinked device):
 * what happened, and the two ways on, each deleting the data here only once confirmed.
 */
export function RemovedDeviceNotice({ address, busy, error, onForget, t }: {
  address: string;
  busy: boolean;
  error: string | null;
  onForget(choice: RemovedChoice): void;
  t: Translate;
}) {
  const [asking, setAsking] = useState<RemovedChoice | null>(null);
  return (
    <div class="banner warn removed-device" role="alert" data-testid="removed-device">
      <p><strong>{t("removed.title", { address })}</strong> {t("removed.body")}</p>
      {error ? <p class="error">{error}</p> : null}
      {asking ? (
        <div class="row">
          <span>{t(asking === "link" ? "removed.confirmLink" : "removed.confirmForget")}</span>
          <button type="button" class="danger solid" disabled={busy} onClick={() => onForget(asking)}>{t("removed.confirmButton")}</button>
          <button type="button" onClick={() => setAsking(null)}>{t("removed.cancel")}</button>
        </div>
      ) : (
        <div class="row">
          <button type="button" class="primary" onClick={() => setAsking("link")}>{t("removed.linkAgain")}</button>
          <button type="button" class="danger" onClick={() => setAsking("welcome")}>{t("removed.forget")}</button>
        </div>
      )}
    </div>
  );
}
