import { useMemo, useRef, useState } from "preact/hooks";
import { ImportViewModel } from "../../ui/view-models/account-import.js";
import type { ImportResult } from "../../ui/view-models/core-types.js";
import { ArchivePicker, ImportStatus } from "../../ui/views/import-form.js";
import { useModel } from "../../ui/views/use-model.js";
import { t } from "./i18n.js";
import { importedAccount } from "./remote-client.js";

/**
 * Setup's "Move an account here": an export from elsewhere becomes a new address with the old
 * account's friends and history. The file is read here; the background, which holds keys, imports it.
 */
export function MoveInForm({ onDone, onBack }: { onDone(moved: ImportResult): void; onBack(): void }) {
  const [address, setAddress] = useState("");
  const [server, setServer] = useState("");
  const [pass, setPass] = useState("");
  // Read when the import starts, not when the view model was made.
  const where = useRef(server);
  where.current = server.trim();
  const importer = useMemo(
    () => new ImportViewModel(() => t, (archive, passphrase, chosen, onStep) => importedAccount(archive, passphrase, { address: chosen, ...(where.current ? { server: where.current } : {}) }, onStep)),
    [],
  );
  useModel(importer);
  const ready = importer.hasFile && pass.length > 0 && address.trim().length > 0 && !importer.running;
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!ready) return;
    const moved = await importer.start(pass, address.trim());
    if (moved) onDone(moved);
  };
  return (
    <form class="setup" data-testid="move-form" aria-busy={importer.running} onSubmit={submit}>
      <h2>{t("move.title")}</h2>
      <p>{t("move.lead")}</p>
      <ArchivePicker importer={importer} id="move" t={t} />
      <label>
        {t("move.passphrase")}
        <input type="password" value={pass} onInput={(e) => setPass(e.currentTarget.value)} autocomplete="current-password" />
      </label>
      <label>
        {t("ext.setup.newAddress")}
        <input value={address} onInput={(e) => setAddress(e.currentTarget.value)} placeholder="name#im.example.com" autocomplete="off" />
      </label>
      <label>
        {t("ext.setup.server")}
        <input value={server} onInput={(e) => setServer(e.currentTarget.value)} placeholder="https://im.example.com" autocomplete="off" />
      </label>
      <ImportStatus importer={importer} id="move" />
      <button type="submit" disabled={!ready}>{importer.running ? t("common.working") : t("move.submit")}</button>
      <button type="button" class="quiet" onClick={onBack}>{t("move.back")}</button>
    </form>
  );
}
