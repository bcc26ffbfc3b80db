import * as v from "valibot";
import type { FileSource } from "../../shared/client/attachments.js";
import { FileRequestSchema, type FileAnswer, type FileRequest } from "../messaging/file-port.js";
import type { ClientService } from "./client-service.js";
import { failure } from "./requests.js";

/** The part of a service worker's `message` event this needs. */
interface PortMessage {
  data: unknown;
  ports: readonly MessagePort[];
  source: { url: string } | null;
  waitUntil(work: Promise<unknown>): void;
}

interface WorkerScope {
  addEventListener(type: "message", listener: (event: PortMessage) => void): void;
}

/**
 * Uploads and downloads for the extension's own pages (messaging/file-port.ts). Only a page of this
 * extension can reach its service worker this way, and its URL is checked all the same; each request
 * is validated, and the transfer keeps the worker alive until it ends.
 */
export function serveFileTransfers(scope: WorkerScope, origin: string, service: ClientService): void {
  scope.addEventListener("message", (event) => {
    const port = event.ports[0];
    if (!port) return;
    const send = (answer: FileAnswer, transfer: Transferable[] = []) => port.postMessage(answer, transfer);
    if (!event.source?.url.startsWith(origin)) return send({ failed: { ok: false, error: "forbidden", message: "Only EMSG itself may ask this." } });
    const parsed = v.safeParse(FileRequestSchema, event.data);
    if (!parsed.success) return send({ failed: { ok: false, error: "bad_request", message: "That request was not understood." } });
    const abort = new AbortController();
    port.onmessage = (message) => {
      if ((message.data as { cancel?: unknown } | null)?.cancel === true) abort.abort();
    };
    event.waitUntil(transfer(service, parsed.output, abort.signal, send).finally(() => port.close()));
  });
}

async function transfer(service: ClientService, request: FileRequest, signal: AbortSignal, send: (answer: FileAnswer, transfer?: Transferable[]) => void): Promise<void> {
  const onProgress = (done: number, total: number) => send({ progress: [done, total] });
  try {
    const core = await service.core();
    if (request.kind === "download") {
      const bytes = await core.downloadAttachment(request.id, { signal, onProgress });
      // Handed over, not copied: the buffer is the page's from here on.
      const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
      return send({ bytes: buffer }, [buffer]);
    }
    const { file } = request;
    const source: FileSource = {
      name: request.name,
      mediaType: request.mediaType,
      size: file.size,
      read: async (offset, length) => new Uint8Array(await file.slice(offset, offset + length).arrayBuffer()),
    };
    const { width, height, thumb, durationMs, voice } = request.media;
    const media = Object.fromEntries(Object.entries({ width, height, thumb, durationMs, voice }).filter(([, value]) => value !== undefined));
    send({ sent: await core.sendFile(request.target, source, media, { signal, onProgress }) });
  } catch (error) {
    send({ failed: failure(error) });
  }
}
