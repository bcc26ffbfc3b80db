import type { Address } from "../address.js";
import { EmsgError, type ErrorCode } from "../errors.js";
import type { DeviceCertBody } from "../identity.js";
import { DeviceListResponseSchema } from "../wire/account.js";
import type { CoreContext } from "./context.js";

/** How long a list that named a device is taken as still naming it: the removal window this adds. */
const LIST_FRESH_MS = 10_000;
/**
 * Why a list may be missing without a refusal: the home server unreachable, our server busy or
 * failing. Not `rate_limited`: anyone behind the device's IP can spend that IP's tokens and so
 * choose when a check would be skipped.
 */
const UNCHECKABLE: ReadonlySet<ErrorCode> = new Set(["peer_unreachable", "unavailable", "internal"]);

interface KnownList {
  at: number;
  accountKey: string;
  deviceIds: Set<string>;
}

const lists = new WeakMap<CoreContext, Map<Address, KnownList>>();

async function fetchList(ctx: CoreContext, address: Address): Promise<KnownList> {
  const answer = await ctx.api.call("POST", "/directory/devices", { address }, DeviceListResponseSchema);
  const known = { at: ctx.clock.now(), accountKey: answer.accountKey, deviceIds: new Set(answer.devices.map((d) => d.body.deviceId)) };
  let byAddress = lists.get(ctx);
  if (!byAddress) lists.set(ctx, (byAddress = new Map()));
  byAddress.set(address, known);
  return known;
}

function names(known: KnownList | undefined, device: DeviceCertBody, accountKey: string): boolean {
  return known !== undefined && known.accountKey === accountKey && known.deviceIds.has(device.deviceId);
}

/**
 * Checks that each device, of an account whose key this device holds (`keyOf`), is one its home
 * server lists now (PROTOCOL §6, Revocation): a removed device still holds the account key and can
 * certify new keys of its own, so a certificate that verifies is necessary and never enough. A list
 * is asked anew whenever it does not name the device (a device linked a moment ago is not refused
 * for a stale copy). Throws `unauthorized` naming the first device not listed. A list that cannot
 * be had now (UNCHECKABLE) leaves its devices unchecked, as delivery would be unchecked without it.
 */
export async function checkListed(ctx: CoreContext, devices: DeviceCertBody[], keyOf: (address: string) => string | undefined): Promise<void> {
  for (const device of devices) {
    const accountKey = keyOf(device.address);
    if (accountKey === undefined) continue;
    const cached = lists.get(ctx)?.get(device.address);
    if (cached && ctx.clock.now() - cached.at < LIST_FRESH_MS && names(cached, device, accountKey)) continue;
    let known: KnownList;
    try {
      known = await fetchList(ctx, device.address);
    } catch (error) {
      if (error instanceof EmsgError && (error.code === "not_found" || error.code === "gone")) {
        throw new EmsgError("unauthorized", `Device ${device.deviceId} claims to be ${device.address}, an account its server no longer has.`);
      }
      // A list kept away for now by what no attacker can cause: a Welcome comes once, and one not
      // taken would lose the device its conversation for good.
      if (error instanceof EmsgError && UNCHECKABLE.has(error.code)) {
        console.warn(`emsg: the devices of ${device.address} could not be checked: ${error.message}`);
        continue;
      }
      throw error;
    }
    if (!names(known, device, accountKey)) {
      throw new EmsgError("unauthorized", `Device ${device.deviceId} claims to be ${device.address} but is not one of its devices: it was removed, or never added.`);
    }
  }
}
