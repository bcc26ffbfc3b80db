import { parseAddress, type Address } from "../../shared/address.js";
import { parseVerifyQr } from "../../shared/safety-number.js";
import { errorSentence } from "./error-text.js";

export type FriendInput = { ok: true; address: Address } | { ok: false; error: string };

/** The address inside an invite link to an EMSG app (`https://HOST/?add=ADDRESS`), else the text itself. */
function fromInviteLink(input: string): string {
  if (!/^https?:\/\//i.test(input)) return input;
  try {
    return new URL(input).searchParams.get("add") ?? input;
  } catch {
    return input;
  }
}

/**
 * Reads what a person pasted or scanned to add a friend: a bare address, an `emsg:` or `web+emsg:`
 * link, an invite link (`https://HOST/?add=ADDRESS`), a verify code from a QR
 * (`emsg-verify:1:ADDRESS:KEY`), or any of these with `#` escaped as `%23`.
 */
export function readFriendInput(text: string, self: Address | null): FriendInput {
  let input = fromInviteLink(text.trim()).trim();
  if (/%23/i.test(input)) input = input.replace(/%23/gi, "#");
  input = input.replace(/^web\+emsg:/i, "emsg:");
  try {
    const { address } = /^emsg-verify:/i.test(input) ? parseVerifyQr(input) : parseAddress(input);
    if (address === self) return { ok: false, error: "That is your own address." };
    return { ok: true, address };
  } catch (error) {
    return { ok: false, error: errorSentence(error) };
  }
}
