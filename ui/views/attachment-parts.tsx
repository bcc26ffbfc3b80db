import { useEffect, useRef, useState } from "preact/hooks";
import type { AttachmentRecord } from "../../shared/client/attachments.js";
import type { Translate } from "../i18n/translate.js";
import type { AttachmentsViewModel, Transfer } from "../view-models/attachment-model.js";

/** "1.2 MiB", "340 KiB": how a file's size is shown. */
export function sizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1_048_576) return `${Math.ceil(bytes / 1024)} KiB`;
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

/** A transfer's bar with its cancel button. */
export function TransferBar({ transfer, t }: { transfer: Transfer; t: Translate }) {
  const percent = transfer.total > 0 ? Math.floor((100 * transfer.done) / transfer.total) : 0;
  const label = t(transfer.direction === "up" ? "file.uploading" : "file.downloading", { name: transfer.name, percent: String(percent) });
  return (
    <div class="transfer" data-testid="transfer" data-direction={transfer.direction}>
      <progress max={100} value={percent} aria-label={label} title={label} />
      <span class="transfer-label">{label}</span>
      <button type="button" class="ghost" onClick={() => transfer.cancel()}>{t("file.cancel")}</button>
    </div>
  );
}

/**
 * A photo full screen, as a modal dialog: it takes the focus (on Close) when it opens, keeps it
 * there, and closes on Escape, Close or a click anywhere, giving the focus back to `opener`.
 */
function ImageViewer({ url, name, opener, onClose, t }: { url: string; name: string; opener: HTMLElement | null; onClose(): void; t: Translate }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        onClose();
      } else if (e.key === "Tab") {
        // Close is all there is to reach; the page behind is not.
        e.preventDefault();
        close.current?.focus();
      }
    };
    document.addEventListener("keydown", onKey, true);
    return () => {
      document.removeEventListener("keydown", onKey, true);
      opener?.focus();
    };
  }, []);
  return (
    <div class="viewer" role="dialog" aria-modal="true" aria-label={name} data-testid="viewer" onClick={onClose}>
      <img src={url} alt={name} />
      <button ref={close} type="button" class="viewer-close" onClick={onClose}>{t("file.close")}</button>
    </div>
  );
}

function saveAs(url: string, name: string): void {
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
}

/**
 * A message's attachment: a photo as its thumbnail, then the photo itself (a click opens it full
 * screen); a voice note or audio played inline; any other file as a card with its name, size and a
 * download button. A damaged or expired one says so and shows nothing of it.
 */
export function AttachmentBody({ id, attachment, files, t, unsent = false }: { id: string; attachment: AttachmentRecord; files: AttachmentsViewModel; t: Translate; unsent?: boolean }) {
  const [viewing, setViewing] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const url = files.urls.get(id);
  const transfer = files.transfers.get(id);
  const inline = attachment.kind === "image" || attachment.kind === "voice" || attachment.kind === "audio";
  // Photos and voice notes are fetched as soon as they are on screen, as other messengers do.
  useEffect(() => {
    if (inline && !attachment.state && !unsent && !url && attachment.size <= 26_214_400) void files.open(id, attachment.name, attachment.mediaType);
  }, [id, inline, attachment.state, unsent, url]);

  if (attachment.state === "damaged") return <p class="file-problem" role="alert" data-testid="attachment-damaged">{attachment.name}: {t("file.damaged")}</p>;
  if (attachment.state === "expired") return <p class="file-problem" data-testid="attachment-expired">{attachment.name}: {t("file.expired")}</p>;
  const bar = transfer ? <TransferBar transfer={transfer} t={t} /> : null;

  if (attachment.kind === "image") {
    const src = url ?? (attachment.thumb ? `data:image/jpeg;base64,${attachment.thumb.replace(/-/g, "+").replace(/_/g, "/")}` : undefined);
    const ratio = attachment.width && attachment.height ? `${attachment.width} / ${attachment.height}` : undefined;
    return (
      <div class="attachment image" data-testid="attachment" data-kind="image">
        <button ref={opener} type="button" class="image-button" disabled={!url} aria-label={t("file.view", { name: attachment.name })} onClick={() => setViewing(true)}>
          {src ? <img src={src} alt={attachment.name} style={{ aspectRatio: ratio }} data-testid={url ? "image-full" : "image-thumb"} class={url ? "" : "blurred"} /> : <span class="file-name">{attachment.name}</span>}
        </button>
        {bar}
        {viewing && url ? <ImageViewer url={url} name={attachment.name} opener={opener.current} onClose={() => setViewing(false)} t={t} /> : null}
      </div>
    );
  }
  if (attachment.kind === "voice" || attachment.kind === "audio") {
    return (
      <div class="attachment audio" data-testid="attachment" data-kind={attachment.kind}>
        {attachment.kind === "voice" ? <span class="file-name">{t("file.voice", { seconds: String(Math.round((attachment.durationMs ?? 0) / 1000)) })}</span> : <span class="file-name">{attachment.name}</span>}
        {url ? <audio controls src={url} preload="metadata" data-testid="audio" /> : null}
        {bar}
      </div>
    );
  }
  return (
    <div class="attachment file-card" data-testid="attachment" data-kind={attachment.kind}>
      <span class="file-name" data-testid="file-name">{attachment.name}</span>
      <span class="file-size">{sizeLabel(attachment.size)}</span>
      {bar ?? (unsent ? null : (
        <button type="button" class="ghost" data-testid="file-download" onClick={async () => {
          const got = url ?? (await files.open(id, attachment.name, attachment.mediaType));
          if (got) saveAs(got, attachment.name);
        }}>{t("file.download")}</button>
      ))}
    </div>
  );
}
