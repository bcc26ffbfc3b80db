import { useEffect, useRef, useState } from "preact/hooks";
import { GROUP_TITLE_MAX } from "../../ui/view-models/new-group-model.js";
import type { GroupViewModel } from "../../ui/view-models/group-model.js";
import { FriendPickList } from "../../ui/views/friend-pick-list.js";
import { t } from "./i18n.js";

/** A question before a step that cannot be undone; its first button takes the focus. */
function Confirm({ question, yes, busy, onYes, onNo }: { question: string; yes: string; busy: boolean; onYes(): void; onNo(): void }) {
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div class="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button type="button" ref={first} class="danger" disabled={busy} onClick={onYes}>{yes}</button>
      <button type="button" onClick={onNo}>{t("group.keep")}</button>
    </div>
  );
}

/** Group info in place of the timeline: members, rename, add friends, remove and leave (both asked first). */
export function GroupInfo({ group }: { group: GroupViewModel }) {
  const [name, setName] = useState(group.title);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const { confirm, adding } = group;
  const active = !group.left;
  return (
    <section class="group-info" aria-labelledby="group-info-title">
      <header class="row">
        <button onClick={() => group.closeDetails()} aria-label={t("group.close")}>←</button>
        <h2 id="group-info-title" ref={heading} tabIndex={-1} class="grow">{t("group.info")}</h2>
      </header>
      {active ? (
        <form onSubmit={(e) => { e.preventDefault(); void group.rename(name); }} noValidate>
          <label for="group-name">{t("group.name")}</label>
          <div class="row">
            <input id="group-name" maxLength={GROUP_TITLE_MAX} value={name} aria-invalid={group.renameProblem ? "true" : undefined} onInput={(e) => setName(e.currentTarget.value)} />
            <button type="submit" disabled={group.busy || name.trim() === group.title}>{t("group.rename")}</button>
          </div>
        </form>
      ) : (
        <p><strong>{group.title}</strong></p>
      )}
      {group.renameProblem && <p role="alert">{t(group.renameProblem)}</p>}
      <h3>{t("group.memberList")} · {group.membersLabel(t)}</h3>
      <ul class="members" aria-label={t("group.memberList")}>
        {group.members.map((member) => (
          <li key={member.address} class="row">
            <span class={`sender sender-c${member.colour} grow`} title={member.address}>{member.name}</span>
            {member.you && <span class="hint">{t("group.youTag")}</span>}
            {active && !member.you && !(confirm?.kind === "remove" && confirm.member.address === member.address) && (
              <button type="button" class="danger" aria-label={t("group.removeLabel", { name: member.name })} onClick={() => group.askRemove(member)}>{t("group.remove")}</button>
            )}
          </li>
        ))}
      </ul>
      {confirm?.kind === "remove" && (
        <Confirm question={t("group.removeAsk", { name: confirm.member.name, title: group.title })} yes={t("group.remove")} busy={group.busy}
          onYes={() => void group.removeConfirmed()} onNo={() => group.askRemove(null)} />
      )}
      {active && adding && (
        <form onSubmit={(e) => { e.preventDefault(); void group.addChosen(); }}>
          {adding.choices.length === 0 ? (
            <p class="hint">{t("group.addNone")}</p>
          ) : (
            <FriendPickList t={t} id="group-add" picker={adding} legend={t("group.add")} onToggle={(a) => group.toggleAdding(a)} onQuery={(q) => group.setAddingQuery(q)} />
          )}
          <div class="row">
            <button type="submit" disabled={group.busy || adding.selected.size === 0}>{t("group.addButton")}</button>
            <button type="button" onClick={() => group.cancelAdding()}>{t("group.cancel")}</button>
          </div>
        </form>
      )}
      {group.error && <p role="alert">{group.error}</p>}
      {active && confirm?.kind === "leave" && (
        <Confirm question={t("group.leaveAsk", { title: group.title })} yes={t("group.leave")} busy={group.busy}
          onYes={() => void group.leaveConfirmed()} onNo={() => group.askLeave(false)} />
      )}
      <div class="row wrap">
        {active && !adding && <button type="button" onClick={() => void group.startAdding()}>{t("group.add")}</button>}
        {active && confirm?.kind !== "leave" && <button type="button" class="danger" onClick={() => group.askLeave(true)}>{t("group.leave")}</button>}
      </div>
    </section>
  );
}
