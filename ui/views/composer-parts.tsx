import type { RefObject } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Translate } from "../i18n/translate.js";
import type { PickedFile } from "../view-models/chat-context.js";
import type { ConversationViewModel } from "../view-models/conversation-model.js";
import { composerAction } from "../view-models/composer.js";

/**
 * Files into a conversation, whichever way they come: picked, dropped on it, or pasted into the
 * composer. `onSend` runs before they go (the timeline then follows them to the bottom).
 */
export function useFileSending(conversation: ConversationViewModel, onSend: () => void) {
  const [dragging, setDragging] = useState(false);
  const send = (list: FileList | null | undefined) => {
    const picked: PickedFile[] = list ? [...list] : [];
    if (picked.length === 0 || !conversation.canSend) return;
    onSend();
    void conversation.files.sendFiles(picked);
  };
  return {
    dragging,
    send,
    /** For the conversation's outermost element. */
    drop: {
      onDragOver: (e: DragEvent) => {
        if (!e.dataTransfer?.types.includes("Files")) return;
        e.preventDefault();
        setDragging(true);
      },
      onDragLeave: () => setDragging(false),
      onDrop: (e: DragEvent) => {
        e.preventDefault();
        setDragging(false);
        send(e.dataTransfer?.files);
      },
    },
    /** For the composer: a pasted image (a screenshot, say) is sent as a file. */
    onPaste: (e: ClipboardEvent) => {
      if (!e.clipboardData?.files.length) return;
      e.preventDefault();
      send(e.clipboardData.files);
    },
  };
}

/** The composer's keys: Enter sends (Shift+Enter a new line), Escape leaves a reply or an edit. */
export function composerKeyDown(conversation: ConversationViewModel, send: () => void) {
  return (event: KeyboardEvent) => {
    if (composerAction(event) === "send") {
      event.preventDefault();
      send();
    } else if (event.key === "Escape" && (conversation.replyingTo || conversation.editing)) {
      conversation.cancelCompose();
    }
  };
}

/**
 * The composer's text field grows with its `text` up to the height its CSS allows (max-height),
 * then scrolls; it shrinks back as the text goes (sent, say). Returns the field's ref.
 */
export function useGrowingField(text: string) {
  const field = useRef<HTMLTextAreaElement>(null);
  useLayoutEffect(() => {
    const box = field.current;
    if (!box) return;
    box.style.height = "auto";
    // scrollHeight leaves out the borders, which a border-box height counts.
    box.style.height = `${box.scrollHeight + box.offsetHeight - box.clientHeight}px`;
  }, [text]);
  return field;
}

/** Choosing Reply or Edit puts the cursor in the message box, as messengers do. */
export function useComposeFocus(conversation: ConversationViewModel, field: RefObject<HTMLTextAreaElement>): void {
  const answering = conversation.replyingTo ?? conversation.editing;
  useEffect(() => {
    if (answering) field.current?.focus();
  }, [answering]);
}

/** The composer's attach button (with its hidden file field) and the voice note's record and stop. */
export function AttachButtons({ conversation, send, t }: { conversation: ConversationViewModel; send(list: FileList | null): void; t: Translate }) {
  const fileInput = useRef<HTMLInputElement>(null);
  const files = conversation.files;
  return (
    <>
      <input ref={fileInput} type="file" multiple hidden data-testid="file-input" onChange={(e) => { send(e.currentTarget.files); e.currentTarget.value = ""; }} />
      <button type="button" class="icon attach" aria-label={t("file.attach")} title={t("file.attach")} data-testid="attach" onClick={() => fileInput.current?.click()}>📎</button>
      {files.recording ? (
        <button type="button" class="ghost recording" data-testid="record-stop" onClick={() => files.stopRecording()}>{t("file.recording")} {t("file.stop")}</button>
      ) : (
        <button type="button" class="icon record" aria-label={t("file.record")} title={t("file.record")} data-testid="record" onClick={() => void files.startRecording()}>🎤</button>
      )}
    </>
  );
}

/** "alice is typing…" under the timeline, while someone is. */
export function TypingLine({ conversation, t }: { conversation: ConversationViewModel; t: Translate }) {
  if (conversation.typing.length === 0) return null;
  return <p class="typing" role="status" data-testid="typing">{t("conv.typing", { name: conversation.typing.join(", ") })}</p>;
}
