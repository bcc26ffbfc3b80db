import type { Address } from "../shared/address.js";
import { EmsgError } from "../shared/errors.js";
import type { Env } from "./env.js";
import { serverOf } from "./routing.js";

/**
 * Whether an address is an account here, asked before its Account object is touched: every object
 * touched is storage, so a request naming made-up accounts must not reach one (PROTOCOL §13).
 * The Server object holds the list; this isolate remembers the names it found there, since an
 * account stays listed until its name is free again 30 days after deletion.
 */
const known = new Set<string>();
const MAX_KNOWN = 100_000;

function remember(addresses: string[]): void {
  if (known.size + addresses.length > MAX_KNOWN) known.clear();
  for (const a of addresses) known.add(a);
}

/** Which of `addresses` are accounts here. */
export async function registeredOf(env: Env, addresses: Address[]): Promise<Set<Address>> {
  const ask = [...new Set(addresses.filter((a) => !known.has(a)))];
  if (ask.length > 0) remember(await serverOf(env).lookup(ask));
  return new Set(addresses.filter((a) => known.has(a)));
}

/** Throws `not_found` unless `address` is an account here. */
export async function mustBeRegistered(env: Env, address: Address): Promise<void> {
  if (!(await registeredOf(env, [address])).has(address)) throw new EmsgError("not_found", `${address} is not an account here.`);
}

/** Lists a new account before its object is written. */
export async function enroll(env: Env, address: Address): Promise<void> {
  await serverOf(env).enroll(address);
  remember([address]);
}
