import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import { GROUP_TITLE_MAX } from "../../../ui/view-models/new-group-model.js";
import type { GroupViewModel, MemberRow } from "../../../ui/view-models/group-model.js";
import { FriendPickList } from "../../../ui/views/friend-pick-list.js";
import { useModel } from "../../../ui/views/use-model.js";
import { PersonAvatar } from "../../../ui/views/person-avatar.js";

/** A question before a step that cannot be undone; its first button takes the focus when it appears. */
function Confirm({ id, question, yes, no, busy, onYes, onNo }: {
  id: string; question: string; yes: string; no: string; busy: boolean; onYes: () => void; onNo: () => void;
}) {
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div class="confirm" role="group" aria-labelledby={id} data-testid="confirm">
      <span id={id} class="grow">{question}</span>
      <button type="button" ref={first} class="danger solid" disabled={busy} onClick={onYes}>{yes}</button>
      <button type="button" onClick={onNo}>{no}</button>
    </div>
  );
}

function MemberItem({ member, avatar, children }: { member: MemberRow; avatar: string | null; children?: ComponentChildren }) {
  return (
    <li class="person" data-testid="group-member">
      <PersonAvatar url={avatar} initial={(member.name[0] ?? "#").toUpperCase()} extra={`small tinted sender-c${member.colour}`} />
      <div class="grow">
        <strong>{member.name}</strong>
        <div class="hint ellipsis">{member.address}</div>
      </div>
      {children}
    </li>
  );
}

/** Group info, from the conversation header: members, add, remove, rename and leave. */
export function GroupDialog({ app, group }: { app: AppViewModel; group: GroupViewModel }) {
  useModel(group);
  const t = app.t;
  const ref = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState(group.title);
  const shownTitle = useRef(group.title);
  useEffect(() => {
    // Someone else renamed the group: an untouched field follows it, an edit in progress stays.
    if (name === shownTitle.current) setName(group.title);
    shownTitle.current = group.title;
  }, [group.title]);
  const heading = useRef<HTMLHeadingElement>(null);
  // The heading, not the name field, takes the focus: opening the panel is not asking to rename.
  useEffect(() => {
    ref.current?.showModal();
    heading.current?.focus();
  }, []);
  const confirm = group.confirm;
  const adding = group.adding;
  const active = !group.left;
  // When a question or the add list goes away, its buttons go too: the focus returns to the heading.
  const hadPanel = useRef(false);
  useEffect(() => {
    const panel = confirm !== null || adding !== null;
    if (hadPanel.current && !panel) heading.current?.focus();
    hadPanel.current = panel;
  }, [confirm, adding]);

  return (
    <dialog ref={ref} onClose={() => group.closeDetails()} class="group-dialog" aria-labelledby="group-info-title" data-testid="group-dialog">
      <div class="dialog-body">
        <h2 id="group-info-title" ref={heading} tabIndex={-1}>{t("group.info")}</h2>
        {active ? (
          <form class="field" onSubmit={(e) => { e.preventDefault(); void group.rename(name); }} noValidate>
            <label for="group-name">{t("group.name")}</label>
            <div class="row">
              <input id="group-name" class="grow" type="text" required maxLength={GROUP_TITLE_MAX} value={name}
                aria-invalid={group.renameProblem ? "true" : undefined} onInput={(e) => setName(e.currentTarget.value)} />
              <button type="submit" disabled={group.busy || name.trim() === group.title}>{t("group.rename")}</button>
            </div>
            {group.renameProblem ? <span class="error" role="alert">{t(group.renameProblem)}</span> : null}
          </form>
        ) : (
          <p><strong>{group.title}</strong></p>
        )}
        <section class="stack" aria-labelledby="group-members-title">
          <h3 id="group-members-title">{t("group.memberList")} · {group.membersLabel(t)}</h3>
          <ul class="plain" data-testid="group-members">
            {group.members.map((member) => (
              <MemberItem key={member.address} member={member} avatar={app.chats?.people.person(member.address).avatar ?? null}>
                {member.you ? <span class="tag">{t("group.youTag")}</span> : null}
                {active && !member.you && !(confirm?.kind === "remove" && confirm.member.address === member.address) ? (
                  <button type="button" class="danger" aria-label={t("group.removeLabel", { name: member.name })} onClick={() => group.askRemove(member)}>{t("group.remove")}</button>
                ) : null}
              </MemberItem>
            ))}
          </ul>
          {confirm?.kind === "remove" ? (
            <Confirm id="group-remove-ask" question={t("group.removeAsk", { name: confirm.member.name, title: group.title })} yes={t("group.remove")} no={t("group.keep")}
              busy={group.busy} onYes={() => void group.removeConfirmed()} onNo={() => group.askRemove(null)} />
          ) : null}
        </section>
        {active && adding ? (
          <form class="stack" onSubmit={(e) => { e.preventDefault(); void group.addChosen(); }}>
            {adding.choices.length === 0 ? (
              <p class="hint">{t("group.addNone")}</p>
            ) : (
              <FriendPickList t={t} id="group-add" picker={adding} legend={t("group.add")} onToggle={(a) => group.toggleAdding(a)} onQuery={(q) => group.setAddingQuery(q)} />
            )}
            <div class="row">
              <button type="submit" class="primary" disabled={group.busy || adding.selected.size === 0}>{t("group.addButton")}</button>
              <button type="button" onClick={() => group.cancelAdding()}>{t("group.cancel")}</button>
            </div>
          </form>
        ) : null}
        {group.error ? <p class="error" role="alert">{group.error}</p> : null}
        {active && confirm?.kind === "leave" ? (
          <Confirm id="group-leave-ask" question={t("group.leaveAsk", { title: group.title })} yes={t("group.leave")} no={t("group.keep")}
            busy={group.busy} onYes={() => void group.leaveConfirmed()} onNo={() => group.askLeave(false)} />
        ) : null}
        <div class="row wrap">
          {active && !adding ? <button type="button" onClick={() => void group.startAdding()}>{t("group.add")}</button> : null}
          {active && confirm?.kind !== "leave" ? <button type="button" class="danger" onClick={() => group.askLeave(true)}>{t("group.leave")}</button> : null}
          <span class="grow" />
          <button type="button" onClick={() => ref.current?.close()}>{t("group.close")}</button>
        </div>
      </div>
    </dialog>
  );
}
