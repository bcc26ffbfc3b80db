import type { Address } from "../address.js";
import { fromB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import { safetyNumber } from "../safety-number.js";
import type { CoreContext } from "./context.js";
import { getFriend } from "./friends.js";

/** The safety number of this account and a friend whose account key is pinned (PROTOCOL §4). */
export async function peerSafetyNumber(ctx: CoreContext, address: Address): Promise<string> {
  const friend = await getFriend(ctx, address);
  if (!friend?.accountKey) throw new EmsgError("not_found", `There is no account key of ${address} on this device yet.`);
  return safetyNumber(
    { address: ctx.account.address, accountKey: fromB64u(ctx.account.accountPublicKey) },
    { address, accountKey: fromB64u(friend.accountKey) },
  );
}
