import type { Store } from "../../shared/client/store.js";
import type { EmsgClient } from "./core-types.js";
import type { ImportProgress, ImportResult } from "./core-types.js";

export type VaultMode = "none" | "device" | "passphrase";
export type Permission = NotificationPermission | "unsupported";

/**
 * What the app view model needs from the browser, so view models stay free of DOM and
 * IndexedDB details: the PWA's browser platform implements it.
 */
export interface PlatformPort {
  readonly languages: readonly string[];
  now(): number;
  pref(key: string): Promise<string | undefined>;
  setPref(key: string, value: string): Promise<void>;
  discoverDomain(): Promise<string>;
  vaultMode(): Promise<VaultMode>;
  /** Makes the sealed store for a new account; with a passphrase, the key is wrapped by it. */
  createStore(passphrase: string | null): Promise<Store>;
  /** Opens the sealed store; null when the passphrase is missing or wrong. */
  openStore(passphrase?: string): Promise<Store | null>;
  /** Forgets everything on this device. */
  erase(): Promise<void>;
  createClient(store: Store, name: string, domain: string): Promise<EmsgClient>;
  /** Makes this browser a new device of the account a link code (shown by another device) names. */
  linkClient(store: Store, code: string): Promise<EmsgClient>;
  /** Moves an exported account into a new account `name#domain` made in `store` (PROTOCOL §11). */
  importClient(store: Store, archive: string, passphrase: string, address: string, onProgress: (p: ImportProgress) => void): Promise<{ client: EmsgClient; result: ImportResult }>;
  openClient(store: Store): Promise<EmsgClient | null>;
  online(): boolean;
  onOnlineChange(listener: (online: boolean) => void): void;
  /** Whether the page is shown; a conversation's session (PROTOCOL §10) lives only while it is. */
  visible(): boolean;
  onVisibilityChange(listener: (visible: boolean) => void): void;
  permission(): Permission;
  askPermission(): Promise<Permission>;
  notify(title: string, body: string, tag: string, onClick: () => void): void;
  saveFile(name: string, text: string): void;
}
