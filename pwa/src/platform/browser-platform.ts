import { EmsgClient } from "../../../shared/client/client.js";
import type { Store } from "../../../shared/client/store.js";
import type { ImportProgress } from "../../../ui/view-models/core-types.js";
import { logFailure } from "../../../ui/view-models/log-failure.js";
import type { PlatformPort, VaultMode } from "../../../ui/view-models/platform-port.js";
import { browserTransport } from "./browser-transport.js";
import { browserPeers, iceServersFrom } from "./browser-peer.js";
import { type Database, eraseDatabase } from "./database.js";
import { discoverDomain } from "./discovery.js";
import { IdbStore } from "./idb-store.js";
import { IdbKeptUploads } from "../../../ui/platform/kept-uploads.js";
import { createVault, openVault, vaultMode } from "./key-vault.js";
import { askNotificationPermission, notificationPermission, notify } from "./notifier.js";
import { saveTextFile } from "../../../ui/views/save-file.js";

// Direct channels (path 3) between browsers; ICE servers come from the build's configuration.
const peers = browserPeers(iceServersFrom(import.meta.env.VITE_EMSG_ICE_SERVERS as string | undefined));

/** The PWA's platform: IndexedDB, WebCrypto, fetch/WebSocket, Notification and the page's origin. */
export class BrowserPlatform implements PlatformPort {
  readonly #db: Database;
  readonly #origin: string;
  readonly #keptUploads: IdbKeptUploads;
  readonly languages: readonly string[] = navigator.languages;

  constructor(db: Database, origin: string) {
    this.#db = db;
    this.#origin = origin;
    this.#keptUploads = new IdbKeptUploads(db);
  }

  now(): number {
    return Date.now();
  }

  pref(key: string): Promise<string | undefined> {
    return this.#db.get("prefs", key);
  }

  async setPref(key: string, value: string): Promise<void> {
    await this.#db.put("prefs", value, key);
  }

  async discoverDomain(): Promise<string> {
    return (await discoverDomain(this.#db, this.#origin)) ?? new URL(this.#origin).hostname;
  }

  vaultMode(): Promise<VaultMode> {
    return vaultMode(this.#db);
  }

  async createStore(passphrase: string | null): Promise<Store> {
    return new IdbStore(this.#db, await createVault(this.#db, passphrase));
  }

  async openStore(passphrase?: string): Promise<Store | null> {
    const key = await openVault(this.#db, passphrase);
    return key ? new IdbStore(this.#db, key) : null;
  }

  erase(): Promise<void> {
    return eraseDatabase(this.#db);
  }

  async createClient(store: Store, name: string, domain: string): Promise<EmsgClient> {
    const client = new EmsgClient({ store, transport: browserTransport, keptUploads: this.#keptUploads, ...(peers ? { peers } : {}) });
    // The PWA is served by its own server, so that server is the page's origin whatever the domain.
    await client.register(`${name}#${domain}`, { label: deviceLabel(), server: this.#origin });
    return client;
  }

  async importClient(store: Store, archive: string, passphrase: string, address: string, onProgress: (p: ImportProgress) => void) {
    const client = new EmsgClient({ store, transport: browserTransport, keptUploads: this.#keptUploads });
    const result = await client.importAccount(archive, passphrase, address, { label: deviceLabel(), server: this.#origin, onProgress });
    return { client, result };
  }

  async linkClient(store: Store, code: string): Promise<EmsgClient> {
    const client = new EmsgClient({ store, transport: browserTransport, keptUploads: this.#keptUploads });
    await client.linkDevice(code, { label: deviceLabel(), server: this.#origin });
    return client;
  }

  async openClient(store: Store): Promise<EmsgClient | null> {
    const client = new EmsgClient({ store, transport: browserTransport, keptUploads: this.#keptUploads, ...(peers ? { peers } : {}) });
    return (await client.open()) ? client : null;
  }

  online(): boolean {
    return navigator.onLine;
  }

  onOnlineChange(listener: (online: boolean) => void): void {
    addEventListener("online", () => listener(true));
    addEventListener("offline", () => listener(false));
  }

  visible(): boolean {
    return document.visibilityState === "visible";
  }

  onVisibilityChange(listener: (visible: boolean) => void): void {
    document.addEventListener("visibilitychange", () => listener(this.visible()));
  }

  permission() {
    return notificationPermission();
  }

  askPermission() {
    return askNotificationPermission();
  }

  notify(title: string, body: string, tag: string, onClick: () => void): void {
    void notify(title, body, tag, onClick).catch(logFailure("a message arrived with no system notification"));
  }

  saveFile(name: string, text: string): void {
    saveTextFile(name, text);
  }
}

/** A readable name for this device in the device list, e.g. "Chrome on Linux". */
function deviceLabel(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? "Firefox" : /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const system = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return system ? `${browser} on ${system}` : browser;
}
