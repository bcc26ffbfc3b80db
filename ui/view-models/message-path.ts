import { parseConversationRef } from "../../shared/wire/conversation.js";
import type { Translate } from "../i18n/translate.js";
import type { MessagePath } from "./core-types.js";

export interface PathView {
  path: MessagePath;
  /** Short, shown in the conversation header: "Direct", "Via im.alice.test", "Relayed". */
  label: string;
  /** The sentence a screen reader reads and a tooltip shows. */
  description: string;
}

/** How a conversation's messages travel, in words; `conversation` names the hub (HUB/ID). */
export function pathView(path: MessagePath, conversation: string | null, t: Translate): PathView {
  const hub = conversation ? parseConversationRef(conversation).hub : "";
  if (path === "direct") return { path, label: t("path.direct"), description: t("path.directHint", { hub }) };
  if (path === "session") return { path, label: t("path.session", { hub }), description: t("path.sessionHint", { hub }) };
  return { path, label: t("path.relay"), description: t("path.relayHint") };
}
