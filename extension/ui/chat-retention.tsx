import { useEffect, useState } from "preact/hooks";
import type { ConversationViewModel } from "../../ui/view-models/conversation-model.js";
import { readRetention, RETENTION_CHOICES, retentionLabel, retentionValue } from "../../ui/view-models/settings-form.js";
import { t } from "./i18n.js";
import { ask } from "./panel-api.js";

/**
 * How long this chat keeps its messages, as in the PWA's conversation header; "default" follows the
 * account. The chat's timer is the conversation model's, which reads it again when anyone in the chat
 * sets it, so the select follows a timer set by the other side while the chat is open.
 */
export function ChatRetention({ conversation, onError }: { conversation: ConversationViewModel; onError(message: string): void }) {
  // The account's own setting, which "default" names; it changes only in Settings, not while a chat is open.
  const [accountDays, setAccountDays] = useState<number | null | undefined>(undefined);
  useEffect(() => {
    let current = true;
    void ask({ type: "settings" }).then((reply) => current && (reply.ok ? setAccountDays(reply.settings.retentionDays) : onError(reply.message)));
    return () => void (current = false);
  }, []);
  if (!conversation.loaded || accountDays === undefined) return null;
  const override = conversation.retentionOverride;
  return (
    <label class="retention hint">
      {t("conv.retention")}{" "}
      <select value={override === undefined ? "default" : retentionValue(override)}
        onChange={(e) => {
          const value = e.currentTarget.value;
          void conversation.setRetention(value === "default" ? undefined : readRetention(value));
        }}>
        <option value="default">{t("conv.retentionDefault", { value: retentionLabel(accountDays, t) })}</option>
        {RETENTION_CHOICES.map((days) => (
          <option key={retentionValue(days)} value={retentionValue(days)}>{retentionLabel(days, t)}</option>
        ))}
      </select>
    </label>
  );
}
