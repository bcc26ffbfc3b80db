// `send-file` and the saving of received files by `read` (PROTOCOL §15).
import { open, readFile, writeFile, mkdir, access } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import type { EmsgClient } from "../shared/client/client.js";
import type { FileSource } from "../shared/client/attachments.js";
import type { MessageRecord } from "../shared/client/messages.js";
import { EmsgError } from "../shared/errors.js";

export const FILE_USAGE = `  send-file ADDRESS|GROUP PATH                        send a file (up to 100 MiB), end-to-end encrypted
  read ADDRESS|GROUP [--files DIR]                    also saves files received there into DIR (default: STATE/files)`;

/** The media type a receiver shows a file by; anything unknown is plain bytes. */
const TYPES: Record<string, string> = {
  ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif",
  ".pdf": "application/pdf", ".txt": "text/plain", ".md": "text/markdown", ".zip": "application/zip", ".json": "application/json",
  ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".webm": "audio/webm", ".m4a": "audio/mp4", ".wav": "audio/wav",
  ".mp4": "video/mp4", ".mov": "video/quicktime",
};

export function mediaTypeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/** A file on disk read in pieces as it is sealed, so a large one is never whole in memory. */
async function fileSource(path: string): Promise<{ source: FileSource; close(): Promise<void> }> {
  const handle = await open(path, "r").catch(() => {
    throw new EmsgError("not_found", `Cannot read ${path}.`);
  });
  const { size } = await handle.stat();
  const source: FileSource = {
    name: basename(path),
    mediaType: mediaTypeOf(path),
    size,
    async read(offset, length) {
      const buffer = new Uint8Array(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      if (bytesRead !== length) throw new EmsgError("conflict", `${path} changed while it was being sent.`);
      return buffer;
    },
  };
  return { source, close: () => handle.close() };
}

const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;

export async function sendFile(client: EmsgClient, to: string, path: string): Promise<MessageRecord> {
  const { source, close } = await fileSource(path);
  try {
    let shown = -1;
    return await client.sendFile(to, source, {}, {
      onProgress: (done, total) => {
        const percent = Math.floor((100 * done) / total);
        if (percent !== shown) process.stderr.write(`\rsending ${source.name}: ${percent}% of ${mib(total)}`);
        shown = percent;
        if (done === total) process.stderr.write("\n");
      },
    });
  } finally {
    await close();
  }
}

/** A name in `dir` not taken yet: "photo.jpg", then "photo (2).jpg", … */
async function freeName(dir: string, name: string): Promise<string> {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 1; ; n++) {
    const candidate = join(dir, n === 1 ? name : `${stem} (${n})${ext}`);
    if (!(await access(candidate).then(() => true, () => false))) return candidate;
  }
}

/** The ids of messages whose files were saved into a folder before; none when the folder has no ledger yet. */
export async function readLedger(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Set();
    throw error;
  }
  let ids: unknown;
  try {
    ids = JSON.parse(text);
  } catch {
    ids = undefined;
  }
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) {
    throw new Error(`${path} is not a list of saved message ids; move it away to save the files again`);
  }
  return new Set(ids);
}

/**
 * Saves each received file of `messages` not saved before into `dir` (a list of saved message
 * ids is kept there), and says where; a damaged or expired one is reported, and nothing is written.
 */
export async function saveFiles(client: EmsgClient, messages: MessageRecord[], dir: string): Promise<void> {
  const files = messages.filter((m) => m.direction === "in" && m.attachment && !m.deleted);
  if (files.length === 0) return;
  await mkdir(dir, { recursive: true });
  const ledger = join(dir, ".saved.json");
  const saved = await readLedger(ledger);
  for (const m of files) {
    if (saved.has(m.id)) continue;
    try {
      const bytes = await client.downloadAttachment(m.id);
      // The name was checked on arrival: no separators, so it stays inside `dir`.
      const path = await freeName(dir, m.attachment!.name);
      await writeFile(path, bytes);
      saved.add(m.id);
      await writeFile(ledger, JSON.stringify([...saved]));
      console.log(`saved ${m.attachment!.name} from ${m.from} to ${path}`);
    } catch (error) {
      if (!(error instanceof EmsgError)) throw error;
      const state = (await client.history(m.conversation, { limit: 1000 })).find((x) => x.id === m.id)?.attachment?.state;
      console.log(`not saved: ${m.attachment!.name} from ${m.from} is ${state ?? "unavailable for now"} (${error.message})`);
    }
  }
}
