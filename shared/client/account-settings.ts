import { fromB64u } from "../base64url.js";
import { signObject } from "../signed.js";
import { AccountViewSchema, type Settings, SettingsSchema } from "../wire/account.js";
import { wipe } from "./account-record.js";
import type { CoreContext } from "./context.js";

const KEY = "settings";

/** The account's settings as last seen; read from the server the first time. */
export async function loadSettings(ctx: CoreContext): Promise<Settings> {
  const kept = await ctx.store.get<Settings>(KEY);
  if (kept) return kept;
  const { settings } = await ctx.api.call("GET", "/account", undefined, AccountViewSchema);
  await ctx.store.put(KEY, settings);
  return settings;
}

/**
 * Whether this account sends and shows read receipts and typing (PROTOCOL §8.1): from the settings
 * kept on this device only, so reading a message never waits on the network. Unknown means on.
 */
export async function readReceiptsOn(ctx: Pick<CoreContext, "store">): Promise<boolean> {
  return (await ctx.store.get<Settings>(KEY))?.readReceipts !== false;
}

/** The account's retention as kept on this device (`null`, forever, when none is kept): sending never waits on the network. */
export async function keptRetentionDays(ctx: Pick<CoreContext, "store">): Promise<number | null> {
  return (await ctx.store.get<Settings>(KEY))?.retentionDays ?? null;
}

/** Settings that came from elsewhere, e.g. the device that linked this one. */
export function keepSettings(ctx: Pick<CoreContext, "store">, settings: Settings): Promise<void> {
  return ctx.store.put(KEY, settings);
}

export async function updateSettings(ctx: CoreContext, change: Partial<Settings>): Promise<Settings> {
  const wanted = { ...(await loadSettings(ctx)), ...change };
  const settings = await ctx.api.call("PUT", "/account/settings", wanted, SettingsSchema);
  await ctx.store.put(KEY, settings);
  return settings;
}

/**
 * Deletes the account (PROTOCOL §11): the account key authorizes it, and a second signed notice
 * is what the server passes on to friends. Then everything this device kept is wiped.
 */
export async function deleteAccount(ctx: CoreContext): Promise<void> {
  const accountKey = fromB64u(ctx.account.accountPrivateKey);
  const body = { address: ctx.account.address, at: ctx.clock.now() };
  await ctx.api.call("DELETE", "/account", {
    deletion: signObject(accountKey, "account-delete", body),
    notice: signObject(accountKey, "deleted", body),
  });
  await wipe(ctx.store);
}
