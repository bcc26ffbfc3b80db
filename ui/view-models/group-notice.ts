import type { Address } from "../../shared/address.js";
import type { Locale, Translate } from "../i18n/translate.js";
import type { GroupNotice } from "./core-types.js";
import type { GroupLabels } from "./sender-label.js";
import { retentionLabel } from "./settings-form.js";

/** "alice", or "You" / "you" when it is this account: the sentence reads the way a person would say it. */
function person(address: Address, group: GroupLabels, t: Translate, subject: boolean): string {
  if (address === group.self) return t(subject ? "group.you" : "group.youObject");
  return group.label(address).name;
}

/** "carol", "carol and dave", "carol, dave and you", in the screen's language. */
export function peopleList(addresses: readonly Address[], group: GroupLabels, locale: Locale, t: Translate): string {
  const names = addresses.map((a) => person(a, group, t, false));
  return new Intl.ListFormat(locale, { type: "conjunction" }).format(names);
}

/** A group event (or a chat's new timer) as the centered line the timeline shows: "alice added carol", "bob left". */
export function noticeText(notice: GroupNotice, group: GroupLabels, locale: Locale, t: Translate): string {
  const by = person(notice.by, group, t, true);
  const who = peopleList(notice.who ?? [], group, locale, t);
  const title = notice.title ?? "";
  switch (notice.type) {
    case "created":
      return title ? t("group.notice.created", { by, title }) : t("group.notice.createdUntitled", { by });
    case "added":
      return t("group.notice.added", { by, who });
    case "removed":
      return t("group.notice.removed", { by, who });
    case "left":
      return t("group.notice.left", { by });
    case "renamed":
      return t("group.notice.renamed", { by, title });
    case "unreadable":
      return t("group.notice.unreadable", { by });
    case "undone":
      return t("group.notice.undone", { by });
    case "rejoined":
      return t("group.notice.rejoined");
    case "timer":
      if (notice.days === undefined) return t("notice.timer.own", { by });
      return notice.days === null ? t("notice.timer.forever", { by }) : t("notice.timer.after", { by, time: retentionLabel(notice.days, t) });
  }
}
