import { domainOf } from "../address.js";
import { fromB64u, toB64u } from "../base64url.js";
import { type LinkBundle, type LinkFriend, formatLinkCode, LINK_KEY_BYTES, openLinkBundle, parseLinkCode, LINK_HISTORY_MAX_MESSAGES, sealLinkBundle, withHistory } from "../device-link.js";
import { EmsgError } from "../errors.js";
import { certifyDevice, generateKeyPair, keyPairFromSeed, verifyDeviceCert } from "../identity.js";
import { randomId16 } from "../ids.js";
import { makeKeyPackages } from "../mls/keypackage.js";
import { AccountViewSchema, AddDeviceResponseSchema, LinkCreatedSchema, LinkFetchedSchema } from "../wire/account.js";
import { type AccountRecord, deviceIdentityOf, saveAccount, wipe } from "./account-record.js";
import { KEY_PACKAGE_TARGET, keepKeyPackages, signerOf } from "./account.js";
import { keepSettings, loadSettings } from "./account-settings.js";
import type { CoreContext } from "./context.js";
import { queueRemoval, rememberLink } from "./device-jobs.js";
import { type Friend, listFriends, saveFriend } from "./friends.js";
import { startCursorAt } from "./mailbox-sync.js";
import { historyForExport, restoreHistory } from "./moved-history.js";

/** What the existing device shows: the code (as text and QR) and when its link expires. */
export interface DeviceLinkOffer {
  code: string;
  id: string;
  expires: number;
}

const CARRIED: ReadonlySet<Friend["state"]> = new Set(["friend", "outgoing", "incoming", "held", "blocked"]);

function toLinkFriend(f: Friend): LinkFriend {
  return {
    address: f.address,
    accountKey: f.accountKey,
    state: f.state as LinkFriend["state"],
    since: f.since,
    ...(f.note ? { note: f.note } : {}),
    ...(f.requestId ? { requestId: f.requestId } : {}),
  };
}

/**
 * Seals this account for a new device and uploads it (PROTOCOL §6, device links), with this
 * device's newest messages as far as they fit, so the new device opens on the chats as they stand.
 * The code is the only way to open it: whoever holds the code within 10 minutes can become a device
 * of the account.
 */
export async function startDeviceLink(ctx: CoreContext): Promise<DeviceLinkOffer> {
  const { account } = ctx;
  const base: LinkBundle = {
    emsgLink: 1,
    address: account.address,
    accountKey: { pub: account.accountPublicKey, priv: account.accountPrivateKey },
    friends: (await listFriends(ctx)).filter((f) => CARRIED.has(f.state)).map(toLinkFriend),
    settings: await loadSettings(ctx),
    created: ctx.clock.now(),
  };
  const bundle = withHistory(base, await historyForExport(ctx, LINK_HISTORY_MAX_MESSAGES, { link: true }));
  const link = { address: account.address, id: randomId16(), key: crypto.getRandomValues(new Uint8Array(LINK_KEY_BYTES)) };
  const sealed = sealLinkBundle(bundle, link);
  const created = await ctx.api.call("POST", "/account/links", { id: link.id, ...sealed }, LinkCreatedSchema);
  await rememberLink(ctx, link.id, created.expires, ctx.clock.now());
  const code = formatLinkCode(link);
  link.key.fill(0);
  return { code, id: link.id, expires: created.expires };
}

/**
 * Makes this device a device of the account a link code names: fetches and opens the bundle (the
 * server then forgets it), certifies a new device key with the account key, and adds the device,
 * with its first KeyPackages, signed by its own key. Keys are stored before the server hears of
 * them; a refusal wipes them again. Friends and their pinned keys come from the bundle.
 */
export async function linkDevice(deps: Omit<CoreContext, "account">, codeText: string, label: string): Promise<AccountRecord> {
  const code = parseLinkCode(codeText);
  const path = `/links/${encodeURIComponent(code.address)}/${code.id}`;
  const fetched = await deps.api.call("GET", path, undefined, LinkFetchedSchema);
  if (fetched.address !== code.address || fetched.id !== code.id) throw new EmsgError("unauthorized", "The server answered with another link.");
  const bundle = openLinkBundle(fetched, code);
  const accountKeys = keyPairFromSeed(fromB64u(bundle.accountKey.priv));
  const deviceKeys = generateKeyPair();
  const now = deps.clock.now();
  const deviceCert = certifyDevice(accountKeys, code.address, deviceKeys.publicKey, label, now);
  const account: AccountRecord = {
    address: code.address,
    domain: domainOf(code.address),
    origin: deps.api.origin,
    accountPublicKey: bundle.accountKey.pub,
    accountPrivateKey: bundle.accountKey.priv,
    deviceId: deviceCert.body.deviceId,
    devicePublicKey: toB64u(deviceKeys.publicKey),
    devicePrivateKey: toB64u(deviceKeys.privateKey),
    deviceCert,
    created: now,
  };
  const ctx: CoreContext = { ...deps, account };
  const keyPackages = await makeKeyPackages(deviceIdentityOf(account), KEY_PACKAGE_TARGET, now);
  await saveAccount(deps.store, account);
  await keepKeyPackages(ctx, keyPackages);
  deps.api.setSigner(signerOf(account));
  try {
    const body = { deviceCert, link: code.id, keyPackages: keyPackages.map((k) => k.keyPackage) };
    const added = await deps.api.call("POST", "/account/devices", body, AddDeviceResponseSchema);
    await startCursorAt(ctx, added.after);
  } catch (error) {
    await wipe(deps.store);
    throw error;
  }
  for (const friend of bundle.friends) await saveFriend(ctx, { ...friend });
  await keepSettings(ctx, bundle.settings);
  // The device is added: its history from the other device must not undo that if it cannot be kept.
  if (bundle.history) await restoreHistory(ctx, code.address, bundle.history).catch((error: unknown) => console.warn(`emsg: the linked device's earlier messages are not kept: ${(error as Error).message}`));
  return account;
}

/** One device of the account as the device list shows it. */
export interface DeviceInfo {
  deviceId: string;
  label: string;
  created: number;
  current: boolean;
}

/** This device, from the certificate it keeps. */
export function deviceOf(account: AccountRecord): DeviceInfo {
  const { deviceId, label, created } = account.deviceCert.body;
  return { deviceId, label, created, current: true };
}

/** The account's devices from its server, each certificate checked against our account key. */
export async function listDevices(ctx: CoreContext): Promise<DeviceInfo[]> {
  const view = await ctx.api.call("GET", "/account", undefined, AccountViewSchema);
  const { address, accountPublicKey, deviceId } = ctx.account;
  const devices: DeviceInfo[] = [];
  for (const cert of view.devices) {
    try {
      const body = verifyDeviceCert(cert, { address, accountKey: accountPublicKey });
      devices.push({ deviceId: body.deviceId, label: body.label, created: body.created, current: body.deviceId === deviceId });
    } catch (error) {
      // A certificate our account key did not sign is no device of ours, whatever the server says.
      if (!(error instanceof EmsgError)) throw error;
    }
  }
  return devices;
}

/** Removes another device from the account; it is then taken out of every conversation. */
export async function removeDevice(ctx: CoreContext, deviceId: string): Promise<void> {
  if (deviceId === ctx.account.deviceId) throw new EmsgError("bad_request", "This device cannot remove itself; remove it from another device.");
  await ctx.api.call("DELETE", `/account/devices/${encodeURIComponent(deviceId)}`);
  await queueRemoval(ctx, deviceId);
  ctx.events.emit("devices", { change: "removed", deviceId });
}
