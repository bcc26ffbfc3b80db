import { useEffect, useRef } from "preact/hooks";
import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import type { ChatsViewModel } from "../../../ui/view-models/chats-model.js";
import { GROUP_TITLE_MAX, type NewGroupViewModel } from "../../../ui/view-models/new-group-model.js";
import { FriendPickList } from "../../../ui/views/friend-pick-list.js";
import { useModel } from "../../../ui/views/use-model.js";

/** Chats → New group: a name and friends to put in it. A modal <dialog>: Escape cancels. */
export function NewGroupDialog({ app, chats, form }: { app: AppViewModel; chats: ChatsViewModel; form: NewGroupViewModel }) {
  useModel(form);
  const t = app.t;
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const titleProblem = form.titleProblem;
  const membersProblem = form.membersProblem;
  const noFriends = form.tooFewFriends;
  return (
    <dialog ref={ref} onClose={() => chats.closeNewGroup()} class="group-dialog" aria-labelledby="new-group-title" data-testid="new-group-dialog">
      <form class="dialog-body" onSubmit={(e) => { e.preventDefault(); void chats.createGroup(); }} noValidate>
        <h2 id="new-group-title">{t("group.create")}</h2>
        <div class="field">
          <label for="new-group-name">{t("group.name")}</label>
          <input id="new-group-name" type="text" required maxLength={GROUP_TITLE_MAX} autoFocus value={form.title}
            aria-invalid={titleProblem ? "true" : undefined} aria-describedby="new-group-name-hint"
            onInput={(e) => form.setTitle(e.currentTarget.value)} />
          <span id="new-group-name-hint" class={titleProblem ? "error" : "hint"} role={titleProblem ? "alert" : undefined}>{t(titleProblem ?? "group.nameHint")}</span>
        </div>
        {noFriends ? (
          <p class="notice">{t("group.noFriends")}</p>
        ) : (
          <FriendPickList t={t} id="new-group" picker={form.picker} legend={t("group.pickLabel")} onToggle={(a) => form.toggle(a)} onQuery={(q) => form.setQuery(q)} />
        )}
        {membersProblem ? <p class="error" role="alert">{t(membersProblem)}</p> : null}
        {form.error ? <p class="error" role="alert">{form.error}</p> : null}
        <div class="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" onClick={() => ref.current?.close()}>{t("group.cancel")}</button>
          <button type="submit" class="primary" disabled={form.busy || noFriends}>{form.busy ? t("common.working") : t("group.createButton")}</button>
        </div>
      </form>
    </dialog>
  );
}
