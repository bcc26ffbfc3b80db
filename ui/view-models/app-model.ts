import type { Address } from "../../shared/address.js";
import type { Store } from "../../shared/client/store.js";
import { isLocale, pickLocale, translator, type Locale, type Translate } from "../i18n/translate.js";
import type { AppContext } from "./app-context.js";
import { ChatsViewModel } from "./chats-model.js";
import type { EmsgClient, MessageRecord } from "./core-types.js";
import { catchUpBanner, connectivityBanner, type Banner, type LinkState, type RemovedChoice } from "./connectivity.js";
import { errorSentence } from "./error-text.js";
import { FavoritesViewModel } from "./favorites-model.js";
import { FriendsViewModel } from "./friends-model.js";
import { LocalRecords } from "./local-records.js";
import { logFailure } from "./log-failure.js";
import { arrivalNotification, requestNotification, shouldNotify } from "./notification-policy.js";
import { Observable } from "./observable.js";
import type { Permission, PlatformPort } from "./platform-port.js";
import { SafetyViewModel } from "./safety-model.js";
import { LiveSession } from "./live-session.js";
import { SettingsViewModel } from "./settings-model.js";
import { importSummary, restoreFavorites } from "./account-import.js";
import type { ImportProgress, ImportResult } from "./core-types.js";
import { reconnectDelay } from "./reconnect.js";

export type Phase = "loading" | "onboarding" | "locked" | "ready" | "deleted";
export type Tab = "chats" | "friends" | "favorites" | "settings";

const EXPIRY_EVERY_MS = 60 * 60_000;
/** How often the app looks whether a message's timer ran out (the core says when the next does). */
const EXPIRY_DUE_CHECK_MS = 15_000;

/** The whole app: which screen shows, the language, the connection, and the screens' view models. */
export class AppViewModel extends Observable implements AppContext {
  readonly #platform: PlatformPort;
  phase: Phase = "loading";
  locale: Locale = "en";
  t: Translate = translator("en");
  domain = "";
  busy = false;
  error: string | null = null;
  tab: Tab = "chats";
  #pendingAdd: string | null = null;
  link: LinkState = "connecting";
  chats: ChatsViewModel | null = null;
  friends: FriendsViewModel | null = null;
  favorites: FavoritesViewModel | null = null;
  settings: SettingsViewModel | null = null;
  safety: SafetyViewModel | null = null;
  #client: EmsgClient | null = null;
  #records: LocalRecords | null = null;
  #offerOpen = false;
  /**
   * The browser's notification permission for the offer, as read when the app came into view or
   * asked: reading it asks the browser each time, and the chat list's every render reads the offer
   * (~1% of a catch-up's CPU). Whether to notify is read afresh each time.
   */
  #offerPermission: Permission | undefined;
  #socketState: LinkState = "connecting";
  #attempts = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #live: LiveSession | null = null;
  readonly #queued = new Set<string>();
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];
  /** Where onboarding opens: its welcome, or the link form when a removed device is linked again. */
  onboardingStart: RemovedChoice = "welcome";
  /** The move made at onboarding, said on the new account's first screen until dismissed. */
  #moved: ImportResult | null = null;
  #backlog: { done: number; total: number } | null = null;

  constructor(platform: PlatformPort) {
    super();
    this.#platform = platform;
  }

  get client(): EmsgClient {
    if (!this.#client) throw new Error("No account is open.");
    return this.#client;
  }
  get records(): LocalRecords {
    if (!this.#records) throw new Error("No account is open.");
    return this.#records;
  }
  get address(): Address {
    return this.client.address;
  }
  /** This account's public key (b64u), which our verify QR code carries. */
  get accountKey(): string {
    return this.client.account!.accountPublicKey;
  }
  get retentionDays(): number | null {
    return this.settings?.retentionDays ?? null;
  }
  /**
   * Whether the chat list offers to turn notifications on: once, while the browser would still ask
   * (a permission asked for without a click is refused by browsers, so it is never asked unasked).
   */
  get notificationOffer(): boolean {
    if (!this.#offerOpen) return false;
    this.#offerPermission ??= this.#platform.permission();
    return this.#offerPermission === "default";
  }

  /** Asks the browser for notifications (this is the click it needs); the offer is answered either way. */
  async acceptNotificationOffer(): Promise<void> {
    await this.settings?.enableNotifications();
    this.#offerPermission = undefined;
    await this.declineNotificationOffer();
  }

  async declineNotificationOffer(): Promise<void> {
    this.#offerOpen = false;
    this.changed();
    await this.records.answerNotificationOffer();
  }

  /** The server said this device was removed from its account: the removed screen shows instead of the chats. */
  get removed(): boolean {
    return this.link === "removed";
  }

  /** What the move made at onboarding said, in the current language; null once dismissed or when there was none. */
  get moveSummary(): string[] | null {
    return this.#moved ? importSummary(this.#moved, this.t) : null;
  }

  dismissMoveSummary(): void {
    this.#moved = null;
    this.changed();
  }

  get banner(): Banner | null {
    return connectivityBanner(this.link, this.#queued.size, this.domain, this.t, this.#platform.online()) ?? catchUpBanner(this.#backlog, this.locale, this.t);
  }
  get unreadTotal(): number {
    return this.chats?.unreadTotal ?? 0;
  }
  get pendingRequests(): number {
    return this.friends?.pendingCount ?? 0;
  }
  now(): number {
    return this.#platform.now();
  }

  async start(): Promise<void> {
    const saved = await this.#platform.pref("locale");
    this.#setLocale(isLocale(saved) ? saved : pickLocale(this.#platform.languages));
    this.domain = await this.#platform.discoverDomain();
    this.#platform.onOnlineChange((online) => {
      // The browser may say online a moment before requests get through: a connect that fails then
      // is tried again in a second, not after the backoff the time offline built up.
      if (online) {
        this.#attempts = 0;
        this.#connectSoon(0);
      }
      this.#updateLink();
    });
    const mode = await this.#platform.vaultMode();
    if (mode === "none") this.phase = "onboarding";
    else if (mode === "passphrase") this.phase = "locked";
    else await this.#open(await this.#platform.openStore());
    this.changed();
  }

  async register(name: string, passphrase: string | null): Promise<void> {
    await this.#busy(async () => {
      const store = await this.#platform.createStore(passphrase);
      try {
        await this.#ready(await this.#platform.createClient(store, name, this.domain), store);
      } catch (error) {
        await this.#platform.erase();
        throw error;
      }
    });
  }

  /** Links this browser to an existing account with the code another of its devices shows. */
  async linkDevice(code: string, passphrase: string | null): Promise<void> {
    await this.#busy(async () => {
      const store = await this.#platform.createStore(passphrase);
      try {
        await this.#ready(await this.#platform.linkClient(store, code), store);
      } catch (error) {
        await this.#platform.erase();
        throw error;
      }
    });
  }

  /**
   * Moves an exported account to `name` on this server. The import view model shows progress and
   * errors; a failure before the new account exists leaves nothing behind on this device.
   */
  async moveHere(archive: string, passphrase: string, name: string, onProgress: (p: ImportProgress) => void): Promise<ImportResult> {
    const store = await this.#platform.createStore(null);
    let imported: { client: EmsgClient; result: ImportResult };
    try {
      imported = await this.#platform.importClient(store, archive, passphrase, `${name}#${this.domain}`, onProgress);
    } catch (error) {
      await this.#platform.erase();
      throw error;
    }
    await restoreFavorites(new LocalRecords(store), imported.result, this.now());
    this.#moved = imported.result;
    await this.#ready(imported.client, store);
    this.changed();
    return imported.result;
  }

  async unlock(passphrase: string): Promise<void> {
    await this.#busy(async () => {
      const store = await this.#platform.openStore(passphrase);
      if (!store) throw new Error(this.t("unlock.wrong"));
      await this.#open(store);
    });
  }

  async #open(store: Store | null): Promise<void> {
    const client = store ? await this.#platform.openClient(store) : null;
    if (!client || !store) {
      this.phase = "onboarding";
      return;
    }
    await this.#ready(client, store);
  }

  async #ready(client: EmsgClient, store: Store): Promise<void> {
    this.#client = client;
    this.#records = new LocalRecords(store);
    this.#offerOpen = !(await this.#records.notificationOfferAnswered());
    await this.#moveRetention(client);
    this.chats = new ChatsViewModel(this);
    this.friends = new FriendsViewModel(this);
    this.favorites = new FavoritesViewModel(this, (id) => this.chats?.conversation?.unstarred(id));
    this.settings = new SettingsViewModel(this, this.#platform);
    for (const child of [this.chats, this.friends, this.favorites, this.settings]) child.subscribe(() => this.changed());
    this.#live = new LiveSession(client, this.#platform.visible());
    this.#platform.onVisibilityChange((visible) => {
      // Permissions change in the browser's own settings, away from the app.
      this.#offerPermission = undefined;
      this.#live?.setVisible(visible);
    });
    this.chats.subscribe(() => this.#showLive());
    client.events.on("message", (message) => this.#onMessage(message));
    client.events.on("status", (message) => this.#track(message));
    client.events.on("connection", ({ state }) => this.#onConnection(state));
    client.events.on("catchUp", (progress) => {
      this.#backlog = progress.done < progress.total ? progress : null;
      this.changed();
    });
    client.events.on("friend", (friend) => {
      const request = requestNotification(friend, this.t);
      if (request) this.#platform.notify(request.title, request.body, `friend-${friend.address}`, () => this.showTab("friends"));
      void this.chats?.conversation?.refreshTrust();
    });
    await Promise.all([this.chats.load(), this.friends.load(), this.favorites.load(), this.settings.load()]);
    for (const conversation of await client.conversations()) {
      if (conversation.last?.direction === "out" && conversation.last.status === "sending") this.#queued.add(conversation.last.id);
    }
    this.phase = "ready";
    if (this.#pendingAdd !== null) this.addFromLink(this.#pendingAdd);
    this.#pendingAdd = null;
    this.#updateLink();
    this.#connectSoon(0);
    const expire = () => void this.runExpiry().catch(logFailure("old messages are removed at the next hourly pass"));
    expire();
    this.#timers.push(setInterval(expire, EXPIRY_EVERY_MS));
    // A disappearing message goes on time, not at the next hourly pass; the clock is read each time,
    // so a device that slept or had its clock moved catches up at once.
    const due = setInterval(() => {
      const due = this.#client?.nextExpiry;
      if (due !== undefined && this.now() >= due) expire();
      // A Welcome kept for a moment's failure is tried again when due, though no mail comes meanwhile.
      const retry = this.#client?.nextRetry;
      if (retry !== undefined && this.now() >= retry) void this.#client!.retryDue().catch(logFailure("a Welcome is tried again at the next check"));
    }, EXPIRY_DUE_CHECK_MS);
    this.#timers.push(due);
  }

  #onConnection(state: LinkState): void {
    this.#socketState = state;
    if (state === "online") {
      this.#attempts = 0;
      this.#live?.retry();
      // The socket replays the mailbox (showing its progress); held requests never come through it.
      void this.#client?.fetchHeldRequests().catch(logFailure("requests held for review show after the next sync"));
    }
    if (state === "offline") this.#connectSoon(reconnectDelay(this.#attempts++));
    if (state === "removed") {
      clearTimeout(this.#retry);
      this.#live?.dispose();
    }
    this.#updateLink();
  }

  /** The core starts no timers: the app reconnects, backing off, and at once when the browser is back online. */
  #connectSoon(delay: number): void {
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      const client = this.#client;
      if (!client || client.removed || !this.#platform.online()) return;
      // A socket that outlived a network drop is kept; what waited to be sent goes out through it.
      if (client.connected) void client.flush().catch(logFailure("queued messages wait for the next connect"));
      // A failed connect says offline (or removed) through the core's connection event.
      else client.connect().catch(logFailure("not connected; trying again shortly"));
    }, delay);
  }

  #onMessage(message: MessageRecord): void {
    this.#track(message);
    if (message.direction !== "in") return;
    // Worked out only when it could be shown (hidden, and allowed): not for each message of a catch-up on screen.
    const hidden = !this.#platform.visible();
    const could = hidden && shouldNotify({ hidden, permission: this.#platform.permission() });
    const shown = could ? arrivalNotification(message, this.chats?.summary(message.conversation), this.client.address, this.t, this.chats?.people) : null;
    const chat = this.chats?.chatOf(message.conversation) ?? message.conversation;
    // A muted chat stays quiet; its unread count still grows.
    if (shown && !this.chats?.isMuted(chat)) this.#platform.notify(shown.title, shown.body, chat, () => this.openConversation(chat));
    if (this.chats?.conversation?.conversation === chat) this.chats.conversation.markRead();
  }

  #track(message: MessageRecord): void {
    if (message.direction === "out" && message.status === "sending") this.#queued.add(message.id);
    else this.#queued.delete(message.id);
    this.changed();
  }

  #updateLink(): void {
    // Removed is what the server said; the browser going offline since does not undo it.
    const next: LinkState = this.#platform.online() || this.#socketState === "removed" ? this.#socketState : "offline";
    if (next === this.link) return;
    this.link = next;
    this.chats?.refresh();
    this.changed();
  }

  /** Deletes messages past their chat's retention (the core decides); starred ones live on as favorites. */
  async runExpiry(): Promise<number> {
    if (!this.#client) return 0;
    const removed = await this.#client.expire(this.now());
    if (removed.length > 0) this.chats?.conversation?.forget(removed);
    return removed.length;
  }

  /** Chat retention the PWA kept itself before the core held it: handed to the core once. */
  async #moveRetention(client: EmsgClient): Promise<void> {
    for (const [chat, days] of await this.records.takeRetentionOverrides()) {
      // A group left and deleted since has no chat to hold it; its messages went with it.
      await client.setChatRetention(chat, days).catch(logFailure(`the retention set for ${chat} is dropped`));
    }
  }

  /**
   * The app was opened to add someone (an invite link or a `web+emsg:` link): Friends opens with the
   * address filled in, for the user to confirm. Before an account exists it waits until one does.
   */
  addFromLink(text: string): void {
    if (!this.friends) {
      this.#pendingAdd = text;
      return;
    }
    this.friends.useCode(text);
    this.showTab("friends");
  }

  /** A session is kept for the conversation on screen: the Chats tab with one open. */
  #showLive(): void {
    this.#live?.show(this.tab === "chats" ? (this.chats?.conversation?.conversation ?? null) : null);
  }

  showTab(tab: Tab): void {
    this.#setTab(tab);
    this.#showLive();
    if (tab === "favorites") void this.favorites?.load();
    // Requests held for review never come through the mailbox; the core fetches them on sync.
    if (tab === "friends" && this.link === "online") void this.#client?.fetchHeldRequests().catch(logFailure("requests held for review show after the next sync"));
    this.changed();
  }

  #setTab(tab: Tab): void {
    if (this.tab === "friends" && tab !== "friends") this.friends?.leave();
    this.tab = tab;
  }

  openConversation(target: string): void {
    this.#setTab("chats");
    this.chats?.open(target);
    this.changed();
  }

  /** Opens the chat with a friend; its conversation is made by the core on the first message. */
  openChatWith(address: Address): void {
    this.openConversation(address);
  }

  showSafety(address: Address): void {
    const ctx = { client: this.client, records: this.records, ownAccountKey: async () => this.accountKey };
    this.safety = new SafetyViewModel(ctx, address, () => {
      void this.friends?.trustChanged(address);
      void this.chats?.conversation?.refreshTrust();
    });
    this.safety.subscribe(() => this.changed());
    void this.safety.load();
    this.changed();
  }

  closeSafety(): void {
    this.safety = null;
    this.changed();
  }

  favoritesChanged(): void {
    void this.favorites?.load();
  }

  setLocale(locale: Locale): void {
    this.#setLocale(locale);
    void this.#platform.setPref("locale", locale);
    this.chats?.refresh();
    this.changed();
  }

  #setLocale(locale: Locale): void {
    this.locale = locale;
    this.t = translator(locale);
  }

  async deleteAccount(): Promise<void> {
    await this.#busy(async () => {
      clearTimeout(this.#retry);
      this.#live?.dispose();
      await this.client.deleteAccount();
      await this.#platform.erase();
      this.#moved = null;
      this.phase = "deleted";
    });
  }

  /**
   * Deletes this removed device's account data (after the person confirmed) and returns to
   * onboarding: its welcome, or with `link` its link form. A device is linked again as a new one
   * (its id is refused for good, PROTOCOL §6) into a fresh store, which this browser holds one of.
   */
  async forgetRemovedDevice(start: RemovedChoice): Promise<void> {
    await this.#busy(async () => {
      this.#close();
      await this.#platform.erase();
      this.onboardingStart = start;
      this.link = this.#socketState = "connecting";
      this.phase = "onboarding";
    });
  }

  /** Lets go of the open account: no timers, socket or screens of it are left. */
  #close(): void {
    // Nothing of the account is drawn from here on.
    this.phase = "loading";
    clearTimeout(this.#retry);
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    this.#live?.dispose();
    this.#live = null;
    this.#client?.disconnect();
    this.#client = null;
    this.#records = null;
    this.#moved = null;
    this.chats = this.friends = this.favorites = this.settings = this.safety = null;
    this.#queued.clear();
    this.#backlog = null;
  }

  async #busy(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = null;
    this.changed();
    try {
      await action();
    } catch (error) {
      this.error = errorSentence(error);
    } finally {
      this.busy = false;
      this.changed();
    }
  }
}
