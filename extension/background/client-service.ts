import { type Address, parseAddress } from "../../shared/address.js";
import { EmsgClient } from "../../shared/client/client.js";
import type { KeptUploads } from "../../shared/client/attachments.js";
import type { Store } from "../../shared/client/store.js";
import type { ClientEvents } from "../../shared/client/context.js";
import type { Transport } from "../../shared/client/transport.js";
import { EmsgError } from "../../shared/errors.js";
import type { ImportProgress, ImportResult } from "../../shared/client/index.js";
import { restoreFavorites } from "../../ui/view-models/account-import.js";
import { LocalRecords } from "../../ui/view-models/local-records.js";
import { logFailure } from "../../ui/view-models/log-failure.js";
import type { ChatRetention, ChatRetentionView, Connection, FriendState, FriendView, GroupView, SettingsView } from "../messaging/messages.js";
import { flushPendingFriends, pendingFriends, queueFriend } from "./pending-friends.js";
import { friendView } from "./views.js";

/** `marks`: a page pinned or muted a chat (this device's own records, read by the badge). */
export type Change = "friends" | "messages" | "connection" | "account" | "marks";

/**
 * The one EmsgClient of this browser profile, living in the background service worker. The
 * service worker may be stopped at any time (MV3), so every method first reopens the account
 * from extension storage; `keepConnected` is what alarms call to get the mailbox socket back.
 */
export class ClientService {
  #client: EmsgClient;
  readonly #newClient: () => EmsgClient;
  // What listens to the core, attached again to the fresh core that follows a reset (device removed, account deleted).
  readonly #subscriptions: Array<(client: EmsgClient) => void> = [];
  readonly #store: Store & { clear?(): Promise<void> };
  #opened: Promise<boolean> | undefined;
  #connection: Connection = "none";
  #connecting: Promise<void> | undefined;
  readonly #listeners = new Set<(change: Change, removed?: string[]) => void>();

  /** `keptUploads`: where files being sent wait, sealed, for a server (they outlive the service worker). */
  /** `store.clear`: empties it, so that a device its account removed can be cleared (`forgetRemoved`). */
  constructor(store: Store & { clear?(): Promise<void> }, transport: Transport, keptUploads?: KeptUploads) {
    this.#store = store;
    this.#newClient = () => new EmsgClient({ store, transport, ...(keptUploads ? { keptUploads } : {}) });
    this.#client = this.#newClient();
    // Messages, their changes and chat summaries reach open pages as the core's own events
    // (entrypoints/background.ts); "messages" says only that expiry removed some, or that an import brought chats in.
    this.on("friend", () => this.#changed("friends"));
    this.on("connection", ({ state }) => {
      this.#connection = state;
      this.#changed("connection");
    });
  }

  get client(): EmsgClient {
    return this.#client;
  }

  /** Listens to the core's events, this one's and any that replaces it. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): void {
    const attach = (client: EmsgClient) => void client.on(event, listener);
    this.#subscriptions.push(attach);
    attach(this.#client);
  }

  /**
   * Deletes everything this device holds, once its server said it was removed from its account
   * (an account still here is never just dropped from a device: it is deleted, `deleteAccount`).
   * Setup shows again; linking again makes a new device.
   */
  async forgetRemoved(): Promise<void> {
    if (!this.#client.removed) throw new EmsgError("forbidden", "Only a device removed from its account is cleared this way.");
    const clear = this.#clearable();
    this.#client.disconnect();
    // Through the core, which drops the files kept for uploads with the rest.
    await this.#client.clearDevice(clear);
    this.#restart();
  }

  /** Deletes the account on its server (friends are told), then everything this browser kept of it: setup shows again. */
  async deleteAccount(): Promise<void> {
    await this.#require();
    // Checked first: an account deleted on its server must not stay behind in storage that cannot be emptied.
    const clear = this.#clearable();
    // The core drops the files kept for uploads as it deletes the account.
    await this.#client.deleteAccount();
    await clear();
    this.#restart();
  }

  #clearable(): () => Promise<void> {
    if (!this.#store.clear) throw new EmsgError("internal", "This storage cannot be cleared.");
    return this.#store.clear.bind(this.#store);
  }

  /** A fresh core over this device's emptied storage, with no account. */
  #restart(): void {
    this.#client = this.#newClient();
    for (const attach of this.#subscriptions) attach(this.#client);
    this.#opened = undefined;
    this.#connection = "none";
    this.#changed("account");
  }

  /** `removed`: with "messages", the ids of the messages expiry removed (none when an import brought chats in). */
  onChange(listener: (change: Change, removed?: string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A page of ours changed this device's chat marks (muted chats leave the badge's count). */
  marksChanged(): void {
    this.#changed("marks");
  }

  #changed(change: Change, removed?: string[]): void {
    for (const listener of this.#listeners) listener(change, removed);
  }

  /** Whether this device holds an account; opens it from storage once per service-worker life. */
  ready(): Promise<boolean> {
    this.#opened ??= this.client.open();
    return this.#opened;
  }

  async account(): Promise<Address | null> {
    return (await this.ready()) ? this.client.address : null;
  }

  /** This account's public key (b64u), which its verify code carries (PROTOCOL §4); never a private one. */
  async accountKey(): Promise<string> {
    await this.#require();
    const account = this.client.account;
    if (!account) throw new EmsgError("not_found", "There is no account on this device yet.");
    return account.accountPublicKey;
  }

  connection(): Connection {
    return this.#connection;
  }

  async register(addressText: string, server?: string): Promise<Address> {
    const { address } = parseAddress(addressText);
    await this.client.register(address, { label: "browser extension", ...(server ? { server } : {}) });
    this.#opened = Promise.resolve(true);
    this.#changed("account");
    await this.keepConnected();
    return address;
  }

  /** Becomes a new device of an account the user has elsewhere (e.g. in the PWA), with the code it shows. */
  async linkDevice(code: string, server?: string): Promise<Address> {
    const account = await this.client.linkDevice(code, { label: "browser extension", ...(server ? { server } : {}) });
    this.#opened = Promise.resolve(true);
    this.#changed("account");
    await this.keepConnected();
    return account.address;
  }

  /** Opens the mailbox socket unless it is open, then sends friend requests queued before setup. */
  async keepConnected(): Promise<void> {
    // Removed: nothing can be fetched or sent any more, so nothing is tried.
    if (!(await this.ready()) || this.#client.removed) return;
    if (!this.client.connected) {
      this.#connecting ??= this.client.connect().finally(() => (this.#connecting = undefined));
      try {
        await this.#connecting;
      } catch {
        // Offline or the server is down: the next alarm tries again; polling covers the gap.
        await this.client.sync().catch(logFailure("offline; the next alarm tries again"));
      }
    }
    await flushPendingFriends(this.#store, async (address) => void (await this.client.sendFriendRequest(address)));
  }

  /**
   * Pulls over HTTP what the socket does not carry, such as requests held for review, and sends
   * what is queued. False when there is no account yet.
   */
  async sync(): Promise<boolean> {
    if (!(await this.ready()) || this.#client.removed) return false;
    await this.client.sync();
    return true;
  }

  async friends(): Promise<FriendView[]> {
    if (!(await this.ready())) return (await pendingFriends(this.#store)).map((address) => ({ address, state: "queued" as const, since: 0 }));
    return (await this.client.friends()).map(friendView);
  }

  /** `unreachable`: the address's server could not be asked now, so the request waits for it. */
  async addFriend(address: Address): Promise<{ state: FriendState; unreachable: boolean }> {
    if (!(await this.ready())) {
      await queueFriend(this.#store, address);
      return { state: "queued", unreachable: false };
    }
    // Refused now, in words, rather than "request sent" and a friend named by a bounce's code later.
    const standing = await this.client.accountStanding(address);
    if (standing === "none") throw new EmsgError("not_found", `There is no EMSG account ${address}.`);
    return { state: (await this.client.sendFriendRequest(address)).state, unreachable: standing === "unreachable" };
  }

  async respond(address: string, verdict: "accept" | "decline" | "block"): Promise<FriendView> {
    await this.#require();
    const friend =
      verdict === "accept" ? await this.client.acceptFriend(address) : verdict === "decline" ? await this.client.declineFriend(address) : await this.client.block(address);
    return friendView(friend);
  }

  async group(conversation: string): Promise<GroupView> {
    await this.#require();
    const summary = (await this.client.conversations()).find((c) => c.conversation === conversation && c.kind === "group");
    if (!summary) throw new EmsgError("not_found", "No such group on this device.");
    return summary;
  }

  async createGroup(title: string, members: string[]): Promise<GroupView> {
    await this.#require();
    return this.client.createGroup(title, members);
  }

  /** Renames, adds, removes or leaves: the core checks that it is a group we are still in. */
  async changeGroup(change: (client: EmsgClient) => Promise<void>): Promise<true> {
    await this.#require();
    await change(this.client);
    return true;
  }

  async settings(): Promise<SettingsView> {
    await this.#require();
    return this.client.settings();
  }

  async setSettings(change: Partial<SettingsView>): Promise<SettingsView> {
    await this.#require();
    return this.client.setSettings(change);
  }

  /** A chat (a friend's address or a group's id) and the account's retention it may follow. */
  async chatRetention(chat: string): Promise<ChatRetentionView> {
    await this.#require();
    const days = await this.client.chatRetention(chat);
    return { retention: days === undefined ? "account" : days, accountDays: (await this.client.settings()).retentionDays };
  }

  /** Sets a chat's own retention through the core and applies it at once. */
  async setChatRetention(chat: string, retention: ChatRetention): Promise<ChatRetentionView> {
    await this.#require();
    await this.client.setChatRetention(chat, retention === "account" ? undefined : retention);
    await this.expire();
    return this.chatRetention(chat);
  }

  /** Deletes what is past its chat's retention; open pages reload if anything went. */
  async expire(): Promise<number> {
    if (!(await this.ready())) return 0;
    const removed = await this.client.expire();
    if (removed.length > 0) this.#changed("messages", removed);
    return removed.length;
  }

  /** The account sealed with `passphrase` (PROTOCOL §11), with the messages starred on this device, as the export file's text. */
  async exportAccount(passphrase: string, onProgress: (fraction: number) => void): Promise<string> {
    await this.#require();
    const favorites = await new LocalRecords(this.#store).favorites();
    return JSON.stringify(await this.client.exportAccount(passphrase, { favorites, onProgress }));
  }

  /**
   * Moves an exported account in (PROTOCOL §11): with `address`, this device has none yet and becomes
   * that new address, as setup's "Move an account here"; without, into the account already here. The
   * core restores friends and history and tells them; the archive's starred messages are kept here.
   */
  async importAccount(archive: string, passphrase: string, where: { address?: string; server?: string }, onProgress: (progress: ImportProgress) => void): Promise<ImportResult> {
    const had = await this.ready();
    const { address, server } = where;
    const result = await this.client.importAccount(archive, passphrase, address, { label: "browser extension", ...(server ? { server } : {}), onProgress });
    await restoreFavorites(new LocalRecords(this.#store), result, Date.now());
    if (!had) {
      this.#opened = Promise.resolve(true);
      this.#changed("account");
      await this.keepConnected();
    }
    this.#changed("friends");
    // The moved history came in without the core's message events: open pages read their chat lists again.
    this.#changed("messages", []);
    return result;
  }

  /** The core, once this device's account is open: what the chat view models' requests go to. */
  async core(): Promise<EmsgClient> {
    await this.#require();
    return this.client;
  }

  async #require(): Promise<void> {
    // EmsgClient itself refuses with not_found and a plain sentence when there is no account.
    await this.ready();
  }
}
