import { parseAddress, type Address } from "../../../shared/address.js";
import { parseVerifyQr } from "../../../shared/safety-number.js";
import { errorSentence } from "./error-text.js";

export type FriendInput = { ok: true; address: Address } | { ok: false; error: string };

/**
 * Reads what a person pasted to add a friend: a bare address, an `emsg:` link, a verify code
 * from a QR (`emsg-verify:1:ADDRESS:KEY`), or a web link with `#` escaped as `%23`.
 */
export function readFriendInput(text: string, self: Address | null): FriendInput {
  let input = text.trim();
  if (/%23/i.test(input)) input = input.replace(/%23/gi, "#");
  try {
    const { address } = /^emsg-verify:/i.test(input) ? parseVerifyQr(input) : parseAddress(input);
    if (address === self) return { ok: false, error: "That is your own address." };
    return { ok: true, address };
  } catch (error) {
    return { ok: false, error: errorSentence(error) };
  }
}
