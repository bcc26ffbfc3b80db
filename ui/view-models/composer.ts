export interface ComposerKey {
  key: string;
  shiftKey: boolean;
  isComposing: boolean;
}

/** Enter sends, Shift+Enter makes a new line, and an IME still composing keeps its Enter. */
export function composerAction(event: ComposerKey): "send" | "newline" | "none" {
  if (event.key !== "Enter" || event.isComposing) return "none";
  return event.shiftKey ? "newline" : "send";
}

/** What would be sent: the draft without surrounding blank lines; nothing when only space is left. */
export function outgoingText(draft: string): string | null {
  const text = draft.replace(/^\s*\n|\n\s*$/g, "").trimEnd();
  return text.trim() === "" ? null : text;
}
