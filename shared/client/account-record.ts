import type { Address, Domain } from "../address.js";
import { fromB64u } from "../base64url.js";
import type { DeviceCert } from "../identity.js";
import type { DeviceIdentity } from "../mls/device.js";
import type { Store } from "./store.js";

/**
 * What a device keeps about its account. The private keys live only here, in the device's Store:
 * they are never sent anywhere (an export archive encrypts them first).
 */
export interface AccountRecord {
  address: Address;
  domain: Domain;
  /** Where this account's server answers, e.g. `https://im.example.com`. */
  origin: string;
  accountPublicKey: string;
  accountPrivateKey: string;
  deviceId: string;
  devicePublicKey: string;
  devicePrivateKey: string;
  deviceCert: DeviceCert;
  created: number;
}

const KEY = "account";

export function loadAccount(store: Store): Promise<AccountRecord | undefined> {
  return store.get<AccountRecord>(KEY);
}

export function saveAccount(store: Store, account: AccountRecord): Promise<void> {
  return store.put(KEY, account);
}

export function deviceIdentityOf(account: AccountRecord): DeviceIdentity {
  return {
    deviceCert: account.deviceCert,
    devicePrivateKey: fromB64u(account.devicePrivateKey),
    devicePublicKey: fromB64u(account.devicePublicKey),
  };
}

/** Everything this client ever stored under its namespace: for account deletion. */
export async function wipe(store: Store): Promise<void> {
  for (const [key] of await store.list("")) await store.delete(key);
}
