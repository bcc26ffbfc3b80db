import { useEffect, useState } from "preact/hooks";
import type { Address } from "../../shared/address.js";
import { GROUP_TITLE_MAX, NewGroupViewModel } from "../../ui/view-models/new-group-model.js";
import type { PeopleNames } from "../../ui/view-models/people-names.js";
import { FriendPickList } from "../../ui/views/friend-pick-list.js";
import { useModel } from "../../ui/views/use-model.js";
import { groupRequests } from "./group-requests.js";
import { t } from "./i18n.js";

/** Chats → New group: a name and ticked friends, through the view model the PWA uses too. */
export function NewGroup({ self, people, onCreated, onCancel }: { self: Address; people: PeopleNames; onCreated(conversation: string): void; onCancel(): void }) {
  const [form] = useState(() => new NewGroupViewModel(groupRequests(self), (address) => people.resolve(address)));
  useModel(form);
  useEffect(() => void form.load(), [form]);
  const create = async () => {
    const group = await form.create();
    if (group) onCreated(group.conversation);
  };
  const problem = form.titleProblem;
  return (
    <form class="new-group" aria-labelledby="new-group-title" onSubmit={(e) => { e.preventDefault(); void create(); }} noValidate>
      <h2 id="new-group-title">{t("group.create")}</h2>
      <label>
        {t("group.name")}
        <input maxLength={GROUP_TITLE_MAX} autoFocus value={form.title} aria-invalid={problem ? "true" : undefined} aria-describedby="new-group-name-hint"
          onInput={(e) => form.setTitle(e.currentTarget.value)} />
      </label>
      <p id="new-group-name-hint" class="hint" role={problem ? "alert" : undefined}>{t(problem ?? "group.nameHint")}</p>
      {form.tooFewFriends ? (
        <p>{t("group.noFriends")}</p>
      ) : (
        <FriendPickList t={t} id="new-group" picker={form.picker} legend={t("group.pickLabel")} onToggle={(a) => form.toggle(a)} onQuery={(q) => form.setQuery(q)} />
      )}
      {form.membersProblem && <p role="alert">{t(form.membersProblem)}</p>}
      {form.error && <p role="alert">{form.error}</p>}
      <div class="row">
        <button type="button" onClick={onCancel}>{t("group.cancel")}</button>
        <button type="submit" disabled={form.busy || form.tooFewFriends}>{form.busy ? t("common.working") : t("group.createButton")}</button>
      </div>
    </form>
  );
}
