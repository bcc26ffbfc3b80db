import { useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Address } from "../../shared/address.js";
import type { Translate } from "../i18n/translate.js";

/**
 * "Nickname" on a friend's row, opening a small form in its place: a name for them that only this
 * device shows (PROTOCOL §8.2); saved empty, it is taken away. A form, not `prompt()`, which an
 * extension's side panel does not show. `onSave` answers the problem in words, or null once saved.
 */
export function NicknameEditor({ address, nickname, onSave, t }: { address: Address; nickname: string; onSave(typed: string): Promise<string | null>; t: Translate }) {
  const [editing, setEditing] = useState(false);
  const [typed, setTyped] = useState(nickname);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  // Before the next frame: what is typed at once goes in after the selection, not under it.
  useLayoutEffect(() => {
    if (editing) field.current?.select();
  }, [editing]);
  if (!editing) {
    const open = () => {
      setTyped(nickname);
      setProblem(null);
      setEditing(true);
    };
    return <button type="button" onClick={open}>{t("friends.nickname")}</button>;
  }
  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const failed = await onSave(typed);
    setBusy(false);
    setProblem(failed);
    if (failed === null) setEditing(false);
  };
  const id = `nickname-${address}`;
  return (
    <form class="nickname-form" onSubmit={(e) => void save(e)} onKeyDown={(e) => e.key === "Escape" && setEditing(false)} noValidate>
      <label for={id}>{t("friends.nicknameAsk", { address })}</label>
      <div class="row">
        <input id={id} ref={field} class="grow" type="text" value={typed} aria-invalid={problem ? "true" : undefined} onInput={(e) => setTyped(e.currentTarget.value)} />
        <button type="submit" class="primary" disabled={busy}>{t("friends.nicknameSave")}</button>
        <button type="button" onClick={() => setEditing(false)}>{t("friends.nicknameCancel")}</button>
      </div>
      {problem ? <p class="error" role="alert">{problem}</p> : null}
    </form>
  );
}
