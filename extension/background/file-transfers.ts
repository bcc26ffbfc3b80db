import * as v from "valibot";
import type { FileSource } from "../../shared/client/attachments.js";
import { FILE_PORT, FileRequestSchema, type FileAnswer, type FileRequest, isCancel } from "../messaging/file-port.js";
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

/** The part of a `runtime.Port` this needs (Firefox clones what crosses it, Blobs included). */
export interface RuntimePort {
  name: string;
  sender?: { url?: string };
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(listener: (message: unknown) => void): void };
  onDisconnect: { addListener(listener: () => void): void };
}

interface Runtime {
  onConnect: { addListener(listener: (port: RuntimePort) => void): void };
}

/** One transfer's way back to the page that asked, whichever channel it came on. */
interface Answering {
  send(answer: FileAnswer, transfer?: Transferable[]): void;
  close(): void;
}

/**
 * Uploads, downloads, the account's export and an export moved in, for the extension's own pages (messaging/file-port.ts). Only a page of this
 * extension can reach its service worker this way, and its URL is checked all the same; each request
 * is validated, and the transfer keeps the worker alive until it ends.
 */
export function serveFileTransfers(scope: WorkerScope, origin: string, service: ClientService): void {
  scope.addEventListener("message", (event) => {
    const port = event.ports[0];
    if (!port) return;
    const abort = new AbortController();
    port.onmessage = (message) => void (isCancel(message.data) && abort.abort());
    const channel: Answering = { send: (answer, transfer = []) => port.postMessage(answer, transfer), close: () => port.close() };
    const work = answer(channel, event.data, event.source?.url, origin, service, abort.signal);
    if (work) event.waitUntil(work);
  });
}

/**
 * The same over `runtime.connect` ports named FILE_PORT, where the background is a page rather than
 * a service worker (Firefox): the port's first message is the request, a later one may cancel it.
 */
export function serveFilePorts(runtime: Runtime, origin: string, service: ClientService): void {
  runtime.onConnect.addListener((port) => {
    if (port.name !== FILE_PORT) return;
    const abort = new AbortController();
    let asked = false;
    // Left to the page to close once it has the answer: a disconnect right after posting may drop it.
    const channel: Answering = { send: (message) => port.postMessage(message), close: () => undefined };
    // The page closed or went away: nobody waits for the file any more.
    port.onDisconnect.addListener(() => abort.abort());
    port.onMessage.addListener((message) => {
      if (asked) return void (isCancel(message) && abort.abort());
      asked = true;
      void answer(channel, message, port.sender?.url, origin, service, abort.signal);
    });
  });
}

/** Checks who asks and what, then runs the transfer; the work to wait for, or none when refused. */
function answer(channel: Answering, data: unknown, url: string | undefined, origin: string, service: ClientService, signal: AbortSignal): Promise<void> | undefined {
  const refuse = (failed: FileAnswer) => {
    channel.send(failed);
    channel.close();
    return undefined;
  };
  if (!url?.startsWith(origin)) return refuse({ failed: { ok: false, error: "forbidden", message: "Only EMSG itself may ask this." } });
  const parsed = v.safeParse(FileRequestSchema, data);
  if (!parsed.success) return refuse({ failed: { ok: false, error: "bad_request", message: "That request was not understood." } });
  return transfer(service, parsed.output, signal, channel.send).finally(() => channel.close());
}

async function transfer(service: ClientService, request: FileRequest, signal: AbortSignal, send: Answering["send"]): Promise<void> {
  const onProgress = (done: number, total: number) => send({ progress: [done, total] });
  try {
    if (request.kind === "import") {
      const { archive, passphrase, address, server } = request;
      return send({ imported: await service.importAccount(archive, passphrase, { address, server }, (step) => send({ step })) });
    }
    const core = await service.core();
    if (request.kind === "export") {
      const text = await service.exportAccount(request.passphrase, (fraction) => onProgress(Math.round(fraction * 1000), 1000));
      const buffer = new TextEncoder().encode(text).buffer as ArrayBuffer;
      return send({ bytes: buffer }, [buffer]);
    }
    if (request.kind === "download") {
      const bytes = await core.downloadAttachment(request.id, { signal, onProgress });
      // Handed over, not copied: the buffer is the page's from here on.
      const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
      return send({ bytes: buffer }, [buffer]);
    }
    const { file } = request;
    // `picked`: the Blob itself, which the core's KeptUploads keeps while the file is sealed.
    const source: FileSource & { picked: Blob } = {
      picked: file,
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
