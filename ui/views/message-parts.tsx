import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Translate } from "../i18n/translate.js";
import type { ConversationViewModel } from "../view-models/conversation-model.js";
import type { TimelineItem } from "../view-models/timeline.js";
import { listen } from "./dom-listeners.js";
import { intersect, type MenuPlacement, menuPlacement } from "./menu-placement.js";

type MessageItem = Extract<TimelineItem, { kind: "message" }>;

/** The reactions offered in a message's menu; any single emoji is valid on the wire. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🙏"] as const;

/** A message's words (links clickable, only http and https), the message it answers, and its reactions. */
export function MessageBody({ item, conversation, t }: { item: MessageItem; conversation: ConversationViewModel; t: Translate }) {
  if (item.deleted) return <span class="text deleted" data-testid="deleted">{t("conv.deleted")}</span>;
  return (
    <>
      {item.quote?.text === null ? (
        <span class="quote" data-testid="quote"><em>{t("conv.quoteMissing")}</em></span>
      ) : item.quote ? (
        <button type="button" class="quote" data-testid="quote" title={t("conv.quoteShow")} onClick={() => void conversation.showMessage(item.quote!.id)}>
          <b>{item.quote.author}</b> {item.quote.text}
        </button>
      ) : null}
      <span class="text">
        {item.parts.map((part, i) =>
          part.href ? <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">{part.text}</a> : part.text,
        )}
      </span>
      <MessageMarks item={item} conversation={conversation} t={t} />
    </>
  );
}

/** What any message, text or file, carries after its body: edited, brought from earlier history, its reactions. */
export function MessageMarks({ item, conversation, t }: { item: MessageItem; conversation: ConversationViewModel; t: Translate }) {
  return (
    <>
      {item.edited ? <span class="edited" data-testid="edited"> ({t("conv.edited")})</span> : null}
      {item.moved ? <span class="edited" data-testid="moved" title={t("conv.movedTitle")}> ({t("conv.moved")})</span> : null}
      {item.reactions.length > 0 ? (
        <span class="reactions">
          {item.reactions.map((r) => (
            <button key={r.emoji} type="button" class={`reaction ${r.mine ? "mine" : ""}`} title={r.by} aria-pressed={r.mine} data-testid="reaction"
              onClick={() => void conversation.react(item.id, r.emoji)}>
              {r.emoji} {r.count}
            </button>
          ))}
        </span>
      ) : null}
    </>
  );
}

/** How long a finger rests on a message to open its menu, about what phones use. */
const LONG_PRESS_MS = 500;

/** Closes the message menu that is open, if one is: only one is open at a time. */
let closeOpenMenu: (() => void) | null = null;

/**
 * A message's menu: reply, react, copy, and for one's own, edit and delete for everyone; for one of
 * ours that failed to send, copy, Retry (where it can work) and Delete from this device. It opens
 * where it shows whole in the timeline (menu-placement.ts) and closes as menus do: on Escape
 * (focus back on ⋯), a click or tap outside it, an action chosen, or another message's menu opening.
 */
export function MessageActions({ item, conversation, t }: { item: MessageItem; conversation: ConversationViewModel; t: Translate }) {
  const [open, setOpen] = useState(false);
  const [copied, setCopied] = useState(false);
  const [place, setPlace] = useState<MenuPlacement | null>(null);
  const details = useRef<HTMLDetailsElement>(null);
  const summary = useRef<HTMLElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  // Whether there is a menu at all (none on a deleted message, nor while one cannot write).
  const shown = !item.deleted && conversation.canSend;

  const close = (refocus: boolean) => {
    setOpen(false);
    setPlace(null);
    if (refocus) summary.current?.focus();
  };

  // Measured before the frame is drawn, so it never shows cut off first.
  useLayoutEffect(() => {
    const box = menu.current;
    const button = details.current;
    if (!open || !box || !button) return;
    if (!place) {
      const timeline = button.closest(".timeline") ?? document.documentElement;
      const screen = { top: 0, left: 0, bottom: window.innerHeight, right: window.innerWidth };
      setPlace(menuPlacement(button.getBoundingClientRect(), box.getBoundingClientRect(), intersect(timeline.getBoundingClientRect(), screen)));
    } else {
      // A timeline too short for it on either side scrolls to show it whole.
      box.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }, [open, place]);

  // A long press on the message opens its menu, as touch screens have no hover to show ⋯ by.
  useEffect(() => {
    // The message's row, as both the PWA and the extension mark it.
    const row = details.current?.closest<HTMLElement>('[data-testid="message"]');
    if (!row) return;
    let timer = 0;
    let start = { x: 0, y: 0 };
    // The press opened the menu, and its finger is not yet lifted and put down again.
    let held = false;
    const cancel = () => {
      clearTimeout(timer);
      timer = 0;
    };
    // Lifting the finger that opened the menu chooses nothing in it; the next touch is heard again.
    const liftedClick = (e: MouseEvent) => {
      e.preventDefault();
      e.stopPropagation();
      heard();
    };
    const heard = () => {
      held = false;
      document.removeEventListener("click", liftedClick, true);
      document.removeEventListener("pointerdown", heard, true);
    };
    const down = (e: PointerEvent) => {
      if (e.pointerType !== "touch" || (e.target as Element).closest("a, button, summary, audio, .menu")) return;
      start = { x: e.clientX, y: e.clientY };
      timer = window.setTimeout(() => {
        timer = 0;
        held = true;
        document.addEventListener("click", liftedClick, true);
        document.addEventListener("pointerdown", heard, true);
        setCopied(false);
        setOpen(true);
      }, LONG_PRESS_MS);
    };
    // A finger that moves is scrolling, not pressing.
    const move = (e: PointerEvent) => {
      if (timer && Math.hypot(e.clientX - start.x, e.clientY - start.y) > 10) cancel();
    };
    // The system's own long-press menu (select, copy) would cover this one.
    const menuOfSystem = (e: Event) => {
      if (held || timer) e.preventDefault();
    };
    const removers = [
      listen(row, "pointerdown", down),
      listen(row, "pointermove", move),
      listen(row, "pointerup", cancel),
      listen(row, "pointercancel", cancel),
      listen(row, "contextmenu", menuOfSystem),
    ];
    return () => {
      cancel();
      heard();
      for (const remove of removers) remove();
    };
  }, [shown]);

  useEffect(() => {
    if (!open) return;
    const shut = () => close(false);
    closeOpenMenu?.();
    closeOpenMenu = shut;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      // The menu is the topmost thing: Escape closes it, not also a reply being written.
      e.preventDefault();
      e.stopPropagation();
      const active = document.activeElement;
      close(!active || active === document.body || details.current!.contains(active));
    };
    const onPointer = (e: PointerEvent) => {
      if (!details.current?.contains(e.target as Node)) close(false);
    };
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("pointerdown", onPointer, true);
    return () => {
      if (closeOpenMenu === shut) closeOpenMenu = null;
      document.removeEventListener("keydown", onKey, true);
      document.removeEventListener("pointerdown", onPointer, true);
    };
  }, [open]);

  if (!shown) return null;
  const copy = () =>
    void navigator.clipboard.writeText(item.text).then(
      () => setCopied(true),
      (error: unknown) => console.warn("emsg: copying failed", error),
    );
  return (
    <details ref={details} class="msg-actions" data-testid="message-actions" open={open}>
      <summary ref={summary} aria-label={t("conv.actions")} title={t("conv.actions")} aria-expanded={open} onClick={(e) => {
        // Opened and closed here, not by the browser, so it is placed before it shows.
        e.preventDefault();
        setCopied(false);
        if (open) close(false);
        else setOpen(true);
      }}>⋯</summary>
      <div ref={menu} class="menu" role="group" aria-label={t("conv.actions")} data-below={place?.below ? "" : undefined}
        style={place ? { left: `${place.left}px` } : undefined} onClick={(e) => {
          // An action done closes the menu; Copy keeps it open to say it copied. Reply and Edit
          // leave the focus to the message box (useComposeFocus).
          const button = (e.target as HTMLElement).closest("button");
          if (button && !button.dataset.keep) close(!button.dataset.compose);
        }}>
        {item.failure ? null : (
          <>
            <span class="quick">
              {QUICK_REACTIONS.map((emoji) => (
                <button key={emoji} type="button" aria-label={t("conv.reactWith", { emoji })} onClick={() => void conversation.react(item.id, emoji)}>{emoji}</button>
              ))}
            </span>
            <button type="button" data-compose="yes" onClick={() => conversation.startReply(item.id)}>{t("conv.reply")}</button>
          </>
        )}
        <button type="button" data-keep="yes" onClick={copy}>{copied ? t("conv.copied") : t("conv.copy")}</button>
        {item.failure ? (
          <>
            {item.failure.retry ? <button type="button" onClick={() => void conversation.retry(item.id)}>{t("conv.retry")}</button> : null}
            <button type="button" class="danger" onClick={() => void conversation.deleteFailed(item.id)}>{t("conv.deleteFailed")}</button>
          </>
        ) : item.mine ? (
          <>
            <button type="button" data-compose="yes" onClick={() => conversation.startEdit(item.id)}>{t("conv.edit")}</button>
            <button type="button" class="danger" onClick={() => {
              if (confirm(t("conv.deleteConfirm"))) void conversation.deleteForEveryone(item.id);
            }}>{t("conv.delete")}</button>
          </>
        ) : null}
      </div>
    </details>
  );
}

/**
 * Under a message of ours that failed to send: why, in the person's words, with Retry where it can
 * work and Delete (from this device: nobody else has it). A file that cannot go again says to send it anew.
 */
export function SendFailure({ item, conversation, t }: { item: MessageItem; conversation: ConversationViewModel; t: Translate }) {
  const failure = item.failure;
  if (!failure) return null;
  const retry = offersRetry(item, conversation);
  return (
    <p class="send-failure" data-testid="send-failure">
      <span data-testid="failure-reason">{t("conv.failedBecause", { reason: failure.reason })}</span>
      {failure.retry === false && item.attachment && conversation.canSend ? <span> {t("conv.failed.sendFileAgain")}</span> : null}
      {retry ? <button type="button" class="ghost" onClick={() => void conversation.retry(item.id)}>{t("conv.retry")}</button> : null}
      <button type="button" class="ghost" onClick={() => void conversation.deleteFailed(item.id)}>{t("conv.deleteFailed")}</button>
    </p>
  );
}

/** Whether Retry is offered for a message of ours that failed: the core says it can go, and the chat takes what we write. */
export function offersRetry(item: MessageItem, conversation: ConversationViewModel): boolean {
  return item.failure?.retry === true && conversation.canSend;
}

/**
 * The red "!" of a message of ours that failed, where Retry is offered (offersRetry): a button that
 * sends it again, as Retry under it does, since it is the mark people tap in other messengers.
 * `class` and the test ids are those of the tick it stands for.
 */
export function RetryTick({ item, conversation, t, class: className }: { item: MessageItem; conversation: ConversationViewModel; t: Translate; class: string }) {
  return (
    <button type="button" class={`retry-tick ${className}`} title={t("conv.retryTick")} aria-label={t("conv.retryTick")} data-testid="tick" data-status={item.status}
      onClick={() => void conversation.retry(item.id)}>
      {item.tick}
    </button>
  );
}

/** Above the composer: the message being answered or edited, with a way out. */
export function ComposeContext({ conversation, t }: { conversation: ConversationViewModel; t: Translate }) {
  const id = conversation.replyingTo ?? conversation.editing;
  if (!id) return null;
  const quote = conversation.quoteOf(id);
  return (
    <div class="compose-context" data-testid="compose-context">
      <span class="grow ellipsis">
        <b>{conversation.editing ? t("conv.editing") : t("conv.replyingTo", { name: quote.author })}</b> {quote.text ?? ""}
      </span>
      <button type="button" class="ghost" onClick={() => conversation.cancelCompose()}>{t("conv.cancel")}</button>
    </div>
  );
}
