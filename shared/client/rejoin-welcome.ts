import { toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import type { KeyPackageBundle } from "../mls/keypackage.js";
import { asClient, type GroupState, membersOfTree } from "../mls/group-state.js";
import { welcomeSigner } from "../mls/welcome-signer.js";
import { deviceIdentityOf } from "./account-record.js";
import type { CoreContext } from "./context.js";

/** Each leaf's device key, by device id. */
function deviceKeys(state: GroupState): Map<string, { address: string; key: string }> {
  const tree = asClient(state).ratchetTree;
  const keys = new Map<string, { address: string; key: string }>();
  for (const m of membersOfTree(tree)) {
    const node = tree[m.leafIndex * 2];
    if (node?.nodeType === "leaf") keys.set(m.body.deviceId, { address: m.body.address, key: toB64u(node.leaf.signaturePublicKey) });
  }
  return keys;
}

/**
 * A device waiting to be let back in (PROTOCOL §8, Rejoining) takes a Welcome only from a device it
 * held in its group (same device id, address and device key) or one its own account key certified:
 * the hub, or any server, could otherwise make a group of its own account with a claimed KeyPackage
 * of this device, and read all it queued.
 */
export async function checkReaddedByMember(ctx: CoreContext, before: GroupState, after: GroupState, welcome: string, bundle: KeyPackageBundle): Promise<void> {
  const signer = await welcomeSigner(deviceIdentityOf(ctx.account), welcome, bundle);
  const leaf = membersOfTree(asClient(after).ratchetTree).find((m) => m.leafIndex === signer);
  const node = asClient(after).ratchetTree[signer * 2];
  const held = leaf && deviceKeys(before).get(leaf.body.deviceId);
  // The join verified each leaf's certificate under the account key it names.
  if (leaf && leaf.body.address === ctx.account.address && leaf.body.accountKey === ctx.account.accountPublicKey) return;
  if (held && node?.nodeType === "leaf" && held.address === leaf.body.address && held.key === toB64u(node.leaf.signaturePublicKey)) return;
  throw new EmsgError("unauthorized", "The Welcome to let this device back in was made by no device of the conversation.");
}
