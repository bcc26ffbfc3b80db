import type { Address } from "../shared/address.js";
import { EmsgError } from "../shared/errors.js";
import { inspectKeyPackage } from "../shared/mls/inspect.js";
import { KEY_PACKAGE_LIFETIME_MS } from "../shared/mls/keypackage.js";
import type { CheckedKeyPackage } from "./devices.js";

/** The longest lifetime a KeyPackage may have: from an hour before its creation to 90 days after (PROTOCOL §8). */
const MAX_LIFETIME_MS = KEY_PACKAGE_LIFETIME_MS + 3600_000;

/** The device KeyPackages are uploaded for: each must be its own. */
export interface KeyPackageOwner {
  address: Address;
  accountKey: string;
  deviceId: string;
}

/**
 * Checks uploaded KeyPackages before the account stores them (PROTOCOL §8), in the stateless Worker
 * so the account's object does not wait on the crypto: MLS 1.0 in suite 84, both signatures, the
 * credential a device certificate of `owner` for the leaf key, a lifetime that holds now and is no
 * longer than KeyPackages are made for, and no KeyPackage twice. The first that fails names its
 * index: `bad_request` (malformed, lifetime), `unauthorized` (signature, someone else's),
 * `conflict` (twice).
 */
export async function checkKeyPackages(texts: readonly string[], owner: KeyPackageOwner, now: number): Promise<CheckedKeyPackage[]> {
  const checked: CheckedKeyPackage[] = [];
  const refs = new Set<string>();
  for (const [index, text] of texts.entries()) {
    try {
      const kp = await inspectKeyPackage(text);
      const { address, accountKey, deviceId } = kp.device;
      if (address !== owner.address || accountKey !== owner.accountKey) throw new EmsgError("unauthorized", `Its credential is a device of ${address}, not of this account.`);
      if (deviceId !== owner.deviceId) throw new EmsgError("unauthorized", "Its credential is another device's certificate.");
      if (kp.notBefore > now || kp.notAfter <= now) throw new EmsgError("bad_request", "Its lifetime does not include now.");
      if (kp.notAfter - kp.notBefore > MAX_LIFETIME_MS) throw new EmsgError("bad_request", "Its lifetime is longer than 90 days and an hour.");
      if (refs.has(kp.ref)) throw new EmsgError("conflict", "It is in the request twice.");
      refs.add(kp.ref);
      checked.push({ keyPackage: text, ref: kp.ref, notAfter: kp.notAfter });
    } catch (error) {
      if (error instanceof EmsgError) throw new EmsgError(error.code, `KeyPackage ${index}: ${error.message}`);
      throw error;
    }
  }
  return checked;
}
