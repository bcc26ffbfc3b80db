import { useEffect, useState } from "preact/hooks";
import { readRetention, RETENTION_CHOICES, retentionLabel, retentionValue } from "../../ui/view-models/settings-form.js";
import type { ChatRetentionView } from "../messaging/messages.js";
import { t } from "./i18n.js";
import { ask } from "./panel-api.js";

/** How long this chat keeps its messages, as in the PWA's conversation header; "default" follows the account. */
export function ChatRetention({ chat, onError }: { chat: string; onError(message: string): void }) {
  const [shown, setShown] = useState<ChatRetentionView | null>(null);
  useEffect(() => {
    // An answer for the chat shown before this one is not put on screen.
    let current = true;
    setShown(null);
    void ask({ type: "chat-retention", chat }).then((reply) => current && (reply.ok ? setShown(reply) : onError(reply.message)));
    return () => void (current = false);
  }, [chat]);
  if (!shown) return null;
  const change = async (value: string) => {
    const reply = await ask({ type: "set-chat-retention", chat, retention: value === "default" ? "account" : readRetention(value) });
    if (reply.ok) setShown(reply);
    else onError(reply.message);
  };
  return (
    <label class="retention hint">
      {t("conv.retention")}{" "}
      <select value={shown.retention === "account" ? "default" : retentionValue(shown.retention)} onChange={(e) => void change(e.currentTarget.value)}>
        <option value="default">{t("conv.retentionDefault", { value: retentionLabel(shown.accountDays, t) })}</option>
        {RETENTION_CHOICES.map((days) => (
          <option key={retentionValue(days)} value={retentionValue(days)}>{retentionLabel(days, t)}</option>
        ))}
      </select>
    </label>
  );
}
