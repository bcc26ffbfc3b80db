// Loads the built EMSG extension into Debian's Chromium and serves pages on loopback.
// Host names of web messengers are mapped to a loopback HTTPS server, so content scripts
// run exactly as they would on the real sites, and no request leaves this machine.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page, type Worker } from "playwright-core";
import { watchContext } from "./failure-log.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const EXTENSION_DIR = join(ROOT, "dist/extension/chrome-mv3");
export const CHROMIUM = "/usr/bin/chromium";
export const MESSENGER_HOSTS = ["web.whatsapp.com", "web.telegram.org", "app.element.io"];

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Served {
  origin: string;
  port: number;
  close(): Promise<void>;
}

export async function serveHttp(handler: Handler): Promise<Served> {
  const server = createHttpServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, port, close: () => new Promise((done) => server.close(() => done())) };
}

/** An HTTPS server with a throw-away self-signed certificate (Chromium is told to accept it). */
export async function serveHttps(handler: Handler): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), "emsg-cert-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=emsg-test", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "pipe" });
  const server = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, handler);
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return { origin: `https://127.0.0.1:${port}`, port, close: () => new Promise((done) => server.close(() => done())) };
}

export interface LoadedExtension {
  context: BrowserContext;
  id: string;
  worker: Worker;
  close(): Promise<void>;
}

/**
 * Starts Chromium with the built extension; `mapToPort` sends the messengers' host names to loopback; `extraArgs` go to Chromium as they are.
 * `profile`: a user data directory to start with and keep on close (a browser started again on it), instead of a throw-away one.
 */
export async function launchWithExtension(mapToPort?: number, locale?: string, extraArgs: readonly string[] = [], profile?: string): Promise<LoadedExtension> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const userDataDir = profile ?? mkdtempSync(join(tmpdir(), "emsg-chromium-"));
  const args = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--no-pings",
    `--disable-extensions-except=${EXTENSION_DIR}`,
    `--load-extension=${EXTENSION_DIR}`,
    ...extraArgs,
  ];
  if (mapToPort !== undefined) {
    args.push("--ignore-certificate-errors", `--host-resolver-rules=${MESSENGER_HOSTS.map((h) => `MAP ${h} 127.0.0.1:${mapToPort}`).join(", ")}`);
  }
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: false, args, ...(locale ? { locale } : {}) });
  watchContext(context, "extension");
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker", { timeout: 15_000 }));
  const id = new URL(worker.url()).host;
  return {
    context,
    id,
    worker,
    close: async () => {
      await context.close();
      if (profile === undefined) rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the extension's side panel and creates `address` there on the server at `origin`. */
export async function createInPanel(ext: LoadedExtension, address: string, origin: string): Promise<Page> {
  const panel = await ext.context.newPage();
  await panel.goto(`chrome-extension://${ext.id}/sidepanel.html`);
  await panel.getByLabel("Your EMSG address").fill(address);
  await panel.getByLabel(/Server URL/).fill(origin);
  await panel.getByRole("button", { name: "Create my address" }).click();
  await panel.locator(".who").filter({ hasText: address }).waitFor({ timeout: 30_000 });
  return panel;
}

/** A tab beside the extension where `name` registers in the PWA served at `origin`. */
export async function registerInTab(ext: LoadedExtension, origin: string, name: string): Promise<Page> {
  const page = await ext.context.newPage();
  page.on("pageerror", (error) => console.error(`[${name}'s PWA] page error: ${error.message}`));
  await page.goto(origin);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create my address" }).click();
  await page.getByRole("navigation").waitFor({ timeout: 30_000 });
  return page;
}
