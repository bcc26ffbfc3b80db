import { describe, expect, it } from "vitest";
import { ClientService } from "../../extension/background/client-service.js";
import { type RuntimePort, serveFilePorts } from "../../extension/background/file-transfers.js";
import { FILE_PORT, type FileAnswer, type FileChannel, type FileRequest, requestFile } from "../../extension/messaging/file-port.js";
import { type ArchiveContents, sealAccountArchive } from "../../shared/account-archive.js";
import type { ImportProgress } from "../../shared/client/index.js";
import { MemoryStore } from "../../shared/client/store.js";
import { EmsgError } from "../../shared/errors.js";

const ORIGIN = "moz-extension://emsg-extension-id/";
const PANEL = `${ORIGIN}sidepanel.html`;

type Listener<T> = (value: T) => void;

/**
 * Two ends of a `runtime.connect` port as Firefox gives them: what one posts reaches the other's
 * listeners later, as a structured clone (Blobs and buffers cross as themselves), and a disconnect
 * is heard on the other end only.
 */
function runtimePorts(name: string, senderUrl: string): { page: RuntimePort; background: RuntimePort; log: unknown[] } {
  const log: unknown[] = [];
  const end = (sender?: { url: string }) => {
    const messages = new Set<Listener<unknown>>();
    const gone = new Set<() => void>();
    return { messages, gone, sender };
  };
  const a = end();
  const b = end({ url: senderUrl });
  let open = true;
  const port = (own: ReturnType<typeof end>, other: ReturnType<typeof end>, who: string): RuntimePort => ({
    name,
    ...(own.sender ? { sender: own.sender } : {}),
    postMessage: (message) => {
      if (!open) throw new Error("Attempt to postMessage on disconnected port");
      log.push({ [who]: message });
      const copy = structuredClone(message);
      setTimeout(() => open && other.messages.forEach((l) => l(copy)));
    },
    disconnect: () => {
      if (!open) return;
      open = false;
      setTimeout(() => other.gone.forEach((l) => l()));
    },
    onMessage: { addListener: (l) => void own.messages.add(l) },
    onDisconnect: { addListener: (l) => void own.gone.add(l) },
  });
  return { page: port(a, b, "page"), background: port(b, a, "background"), log };
}

/** A background with no account on this device: a request it understands reaches the core, which says not_found. */
function background(): (port: RuntimePort) => void {
  let connect: ((port: RuntimePort) => void) | undefined;
  const transport = { fetch: async () => ({ status: 404, text: async () => "" }), openSocket: () => { throw new Error("no sockets here"); } };
  serveFilePorts({ onConnect: { addListener: (l) => (connect = l) } }, ORIGIN, new ClientService(new MemoryStore(), transport));
  return connect!;
}

function channelOf(port: RuntimePort): FileChannel {
  return {
    post: (message) => port.postMessage(message),
    listen: (onAnswer, onGone) => {
      port.onMessage.addListener((message) => onAnswer(message as FileAnswer));
      port.onDisconnect.addListener(onGone);
    },
    close: () => port.disconnect(),
  };
}

const toError = (failed: { error: string; message: string }) => new EmsgError(failed.error as "not_found", failed.message);
const upload: FileRequest = { kind: "upload", target: "bob#im.bob.test", name: "a.txt", mediaType: "text/plain", file: new Blob(["hi"]), media: {} };

// Firefox's extension background is a page, so files reach it over `runtime.connect` ports
// (extension/background/file-transfers.ts, serveFilePorts): the request first, then answers.
describe("files over a runtime port, where the background is a page", () => {
  it("carries the request, Blob included, to the core and its one answer back, and the page closes the port", async () => {
    const connect = background();
    const { page, background: other, log } = runtimePorts(FILE_PORT, PANEL);
    connect(other);
    let gone = false;
    other.onDisconnect.addListener(() => (gone = true));
    const asked = requestFile(channelOf(page), upload, {}, toError);
    await expect(asked).rejects.toMatchObject({ code: "not_found" });
    expect((log[0] as { page: FileRequest }).page).toMatchObject({ kind: "upload", file: expect.any(Blob) });
    expect(log.filter((m) => "background" in (m as object))).toHaveLength(1);
    await expect.poll(() => gone).toBe(true);
  });

  it("refuses a page of another origin and a request it does not understand, each with one answer", async () => {
    const connect = background();
    const ask = async (data: unknown, url: string) => {
      const { page, background: other } = runtimePorts(FILE_PORT, url);
      connect(other);
      const answers: FileAnswer[] = [];
      page.onMessage.addListener((m) => answers.push(m as FileAnswer));
      page.postMessage(data);
      // Waited for, not timed: a loaded machine answered after a fixed 20 ms wait. A second answer would follow the first at once.
      await expect.poll(() => answers.length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 20));
      return answers;
    };
    expect(await ask(upload, "https://example.com/")).toEqual([{ failed: { ok: false, error: "forbidden", message: "Only EMSG itself may ask this." } }]);
    for (const bad of [{ ...upload, file: "hi" }, { kind: "download" }, { cancel: true }, null]) {
      expect(await ask(bad, PANEL)).toEqual([{ failed: { ok: false, error: "bad_request", message: "That request was not understood." } }]);
    }
  });

  it("leaves ports of another name to their own listeners", async () => {
    const connect = background();
    const { page, background: other, log } = runtimePorts("something-else", PANEL);
    connect(other);
    page.postMessage(upload);
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toHaveLength(1);
  });

  it("fails the page's request, rather than waiting for ever, when the background goes away without an answer", async () => {
    const { page, background: other } = runtimePorts(FILE_PORT, PANEL);
    const asked = requestFile(channelOf(page), upload, {}, toError);
    other.disconnect();
    await expect(asked).rejects.toMatchObject({ code: "unavailable" });
  });

  it("sends a cancel after the request when the page aborts, and takes progress until the end", async () => {
    const { page, background: other, log } = runtimePorts(FILE_PORT, PANEL);
    const progress: [number, number][] = [];
    const abort = new AbortController();
    other.onMessage.addListener((message) => {
      if ((message as FileRequest).kind) return other.postMessage({ progress: [1, 4] });
      // The cancel: the background answers as the core does when a transfer is cancelled.
      other.postMessage({ failed: { ok: false, error: "bad_request", message: "The transfer was cancelled." } });
    });
    const asked = requestFile(channelOf(page), upload, { signal: abort.signal, onProgress: (done, total) => progress.push([done, total]) }, toError);
    await expect.poll(() => progress).toEqual([[1, 4]]);
    abort.abort();
    await expect(asked).rejects.toMatchObject({ message: "The transfer was cancelled." });
    expect(log.filter((m) => "page" in (m as object)).map((m) => Object.keys((m as { page: object }).page)[0])).toEqual(["kind", "cancel"]);
  });
});

// An export moved in (setup's "Move an account here", Settings' import) crosses the same port: the
// archive's text and passphrase go to the background, the core's steps come back as they go.
describe("an account export moved in over the port", () => {
  const sealed = async (passphrase: string) => JSON.stringify(await sealAccountArchive({} as ArchiveContents, passphrase, { N: 1024 }));

  const importing = async (request: FileRequest) => {
    const { page, background: other } = runtimePorts(FILE_PORT, PANEL);
    background()(other);
    const steps: ImportProgress["step"][] = [];
    const asked = requestFile(channelOf(page), request, { onStep: (progress) => steps.push(progress.step) }, toError);
    return { asked, steps };
  };

  it("says a wrong passphrase as the core does, after the unlock step's progress reached the page", async () => {
    const { asked, steps } = await importing({ kind: "import", archive: await sealed("the right one"), passphrase: "a wrong one", address: "alice#im.bob.test" });
    await expect(asked).rejects.toMatchObject({ code: "unauthorized" });
    expect(steps.length).toBeGreaterThan(0);
    expect(new Set(steps)).toEqual(new Set(["unlock"]));
  });

  it("says a file that is no export, or one whose contents are damaged, in a sentence", async () => {
    await expect((await importing({ kind: "import", archive: "not json", passphrase: "p" })).asked).rejects.toMatchObject({ code: "bad_request", message: "This file is not an EMSG export: it is not JSON." });
    const opened = await importing({ kind: "import", archive: await sealed("p"), passphrase: "p", address: "alice#im.bob.test" });
    await expect(opened.asked).rejects.toMatchObject({ code: "bad_request", message: expect.stringMatching(/^The export opened, but its contents are damaged/) });
  });

  it("refuses a request without its passphrase, or an archive that is not text, before the core sees it", async () => {
    for (const bad of [{ kind: "import", archive: "{}" }, { kind: "import", archive: 42, passphrase: "p" }]) {
      const { asked } = await importing(bad as unknown as FileRequest);
      await expect(asked).rejects.toMatchObject({ code: "bad_request", message: "That request was not understood." });
    }
  });
});
