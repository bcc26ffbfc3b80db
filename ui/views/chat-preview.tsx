import type { ChatRow } from "../view-models/chat-list.js";

/**
 * A chat row's last line. When it is ours and failed to send, a red "!" comes first, as on the
 * message itself, with the words for screen readers: the chat is where Retry and Delete are.
 */
export function ChatPreview({ row }: { row: Pick<ChatRow, "preview" | "failedLabel"> }) {
  return (
    <span class="preview">
      {row.failedLabel ? (
        <span class="failed-mark" title={row.failedLabel} data-testid="chat-failed">
          <span aria-hidden="true">! </span>
          <span class="visually-hidden">{row.failedLabel}: </span>
        </span>
      ) : null}
      {row.preview}
    </span>
  );
}
