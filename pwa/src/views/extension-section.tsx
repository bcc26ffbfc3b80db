import type { Translate } from "../../../ui/i18n/translate.js";
import { EXTENSION_DOWNLOADS } from "../../../ui/view-models/extension-downloads.js";

/** Settings → Browser extension: the packages this server offers, and how to load one. */
export function ExtensionSection({ t }: { t: Translate }) {
  return (
    <section class="card" aria-labelledby="extension-title">
      <h3 id="extension-title">{t("settings.extension")}</h3>
      <p class="hint">{t("settings.extensionHint")}</p>
      <div class="row">
        {EXTENSION_DOWNLOADS.map((d) => (
          <a key={d.browser} class="button" href={`/downloads/${d.file}`} download={d.file}>{t(d.label)}</a>
        ))}
      </div>
      <p class="hint">{t("settings.extensionLoad")}</p>
    </section>
  );
}
