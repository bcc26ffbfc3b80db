import { AccountExportViewModel } from "./account-export.js";
import { ImportViewModel, restoreFavorites } from "./account-import.js";
import type { AppContext } from "./app-context.js";
import type { AccountSettings } from "./core-types.js";
import { DevicesViewModel } from "./devices-model.js";
import { errorSentence } from "./error-text.js";
import { Observable } from "./observable.js";
import { ProfileViewModel } from "./profile-model.js";
import type { Permission, PlatformPort } from "./platform-port.js";

export type Strangers = AccountSettings["strangers"];

/** Account settings, notifications, devices, the export and moving an old account in; deletion lives on the app. */
export class SettingsViewModel extends Observable {
  readonly #ctx: AppContext;
  readonly #platform: PlatformPort;
  strangers: Strangers = "accept";
  retentionDays: number | null = null;
  /** Read receipts and typing indicators, sent and shown (PROTOCOL §8.1). */
  readReceipts = true;
  notifications: Permission = "default";
  readonly devices: DevicesViewModel;
  saved = false;
  error: string | null = null;
  /** The whole account sealed into a file, to move it to another server or device. */
  readonly exporter: AccountExportViewModel;
  /** Moves an exported (old) account into this one: its friends are restored and told. */
  readonly importer: ImportViewModel;
  /** The display name and avatar friends and groups see (PROTOCOL §8.2). */
  readonly profile: ProfileViewModel;

  constructor(ctx: AppContext, platform: PlatformPort) {
    super();
    this.#ctx = ctx;
    this.#platform = platform;
    this.devices = new DevicesViewModel(ctx);
    this.devices.subscribe(() => this.changed());
    this.profile = new ProfileViewModel(ctx.client);
    const seal = async (passphrase: string, onProgress: (fraction: number) => void) =>
      JSON.stringify(await ctx.client.exportAccount(passphrase, { favorites: await ctx.records.favorites(), onProgress }));
    this.exporter = new AccountExportViewModel({ seal, save: (name, text) => platform.saveFile(name, text) }, () => ctx.client.address, () => ctx.now());
    this.exporter.subscribe(() => this.changed());
    this.importer = new ImportViewModel(() => ctx.t, async (archive, passphrase, _name, onProgress) => {
      const result = await ctx.client.importAccount(archive, passphrase, undefined, { onProgress });
      await restoreFavorites(ctx.records, result, ctx.now());
      ctx.favoritesChanged();
      return result;
    });
    this.importer.subscribe(() => this.changed());
  }

  async load(): Promise<void> {
    this.notifications = this.#platform.permission();
    try {
      const settings = await this.#ctx.client.settings();
      this.strangers = settings.strangers;
      this.retentionDays = settings.retentionDays;
      this.readReceipts = settings.readReceipts !== false;
      await this.profile.load();
      await this.devices.load();
    } catch (error) {
      this.error = errorSentence(error);
    }
    this.changed();
  }

  async #save(next: AccountSettings): Promise<void> {
    const before = { strangers: this.strangers, retentionDays: this.retentionDays };
    this.strangers = next.strangers;
    this.retentionDays = next.retentionDays;
    this.saved = false;
    this.error = null;
    this.changed();
    try {
      const saved = await this.#ctx.client.setSettings(next);
      this.strangers = saved.strangers;
      this.retentionDays = saved.retentionDays;
      this.saved = true;
    } catch (error) {
      this.strangers = before.strangers;
      this.retentionDays = before.retentionDays;
      this.error = errorSentence(error);
    }
    this.changed();
  }

  async setReadReceipts(on: boolean): Promise<void> {
    this.readReceipts = on;
    this.saved = false;
    this.error = null;
    this.changed();
    try {
      this.readReceipts = (await this.#ctx.client.setSettings({ readReceipts: on })).readReceipts !== false;
      this.saved = true;
    } catch (error) {
      this.readReceipts = !on;
      this.error = errorSentence(error);
    }
    this.changed();
  }

  setStrangers(strangers: Strangers): Promise<void> {
    return this.#save({ strangers, retentionDays: this.retentionDays });
  }

  async setRetention(retentionDays: number | null): Promise<void> {
    await this.#save({ strangers: this.strangers, retentionDays });
    await this.#ctx.runExpiry();
  }

  async enableNotifications(): Promise<void> {
    this.notifications = await this.#platform.askPermission();
    this.changed();
  }
}
