import type { Address } from "../address.js";
import { domainOf } from "../address.js";
import { fromB64u, toB64u } from "../base64url.js";
import { certifyDevice, generateKeyPair, type KeyPair } from "../identity.js";
import { deviceKeyId } from "../http-signature.js";
import { type KeyPackageBundle, makeKeyPackages } from "../mls/keypackage.js";
import { PublishKeyPackagesResponseSchema, RegisterResponseSchema } from "../wire/account.js";
import { type AccountRecord, deviceIdentityOf, saveAccount } from "./account-record.js";
import type { CoreContext } from "./context.js";
import type { ServerApi } from "./server-api.js";
import type { Store } from "./store.js";
import type { Clock } from "./transport.js";

/** How many KeyPackages a device keeps published, and below how many it makes more. */
export const KEY_PACKAGE_TARGET = 30;
export const KEY_PACKAGE_LOW = 10;

export function signerOf(account: AccountRecord) {
  return { keyId: deviceKeyId(account.address, account.deviceId), privateKey: fromB64u(account.devicePrivateKey) };
}

/** A device's record of its account: both key pairs and the certificate the account key gives the device. */
export function accountRecord(
  address: Address,
  accountKeys: KeyPair,
  deviceKeys: KeyPair,
  { label, origin, now }: { label: string; origin: string; now: number },
): AccountRecord {
  const deviceCert = certifyDevice(accountKeys, address, deviceKeys.publicKey, label, now);
  return {
    address,
    domain: domainOf(address),
    origin,
    accountPublicKey: toB64u(accountKeys.publicKey),
    accountPrivateKey: toB64u(accountKeys.privateKey),
    deviceId: deviceCert.body.deviceId,
    devicePublicKey: toB64u(deviceKeys.publicKey),
    devicePrivateKey: toB64u(deviceKeys.privateKey),
    deviceCert,
    created: now,
  };
}

/**
 * Makes the account and first device keys, certifies the device, and registers both with the
 * account's server. The record is stored before the server hears of it, so keys that the server
 * knows are never lost to a crash; a refused registration removes it again.
 */
export async function createAccount(
  deps: { store: Store; api: ServerApi; clock: Clock },
  address: Address,
  label: string,
): Promise<AccountRecord> {
  const account = accountRecord(address, generateKeyPair(), generateKeyPair(), { label, origin: deps.api.origin, now: deps.clock.now() });
  const { deviceCert } = account;
  await saveAccount(deps.store, account);
  deps.api.setSigner(signerOf(account));
  try {
    await deps.api.call("POST", "/accounts", { address, accountKey: account.accountPublicKey, deviceCert }, RegisterResponseSchema);
  } catch (error) {
    await deps.store.delete("account");
    throw error;
  }
  return account;
}

const bundleKey = (ref: string) => `kp/${ref}`;

export async function keepKeyPackages(ctx: Pick<CoreContext, "store">, bundles: KeyPackageBundle[]): Promise<void> {
  for (const bundle of bundles) await ctx.store.put(bundleKey(bundle.ref), bundle);
}

export async function unusedKeyPackages(ctx: Pick<CoreContext, "store">): Promise<KeyPackageBundle[]> {
  return (await ctx.store.list<KeyPackageBundle>("kp/")).map(([, bundle]) => bundle);
}

export function forgetKeyPackage(ctx: Pick<CoreContext, "store">, ref: string): Promise<void> {
  return ctx.store.delete(bundleKey(ref));
}

/**
 * Tops the published KeyPackages up to the target. The device cannot see claims that led to no
 * Welcome, so it also trusts the server's count when the server reports one lower than its own.
 */
export async function replenishKeyPackages(ctx: CoreContext, serverCount?: number): Promise<number> {
  const held = (await unusedKeyPackages(ctx)).length;
  const published = Math.min(held, serverCount ?? held);
  if (published >= KEY_PACKAGE_LOW) return 0;
  const count = KEY_PACKAGE_TARGET - published;
  const bundles = await makeKeyPackages(deviceIdentityOf(ctx.account), count, ctx.clock.now());
  // Secrets first: a KeyPackage the server hands out must always have its private half here.
  await keepKeyPackages(ctx, bundles);
  await ctx.api.call("POST", "/account/keypackages", { keyPackages: bundles.map((b) => b.keyPackage) }, PublishKeyPackagesResponseSchema);
  return count;
}
