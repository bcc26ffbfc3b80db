import { parseLinkCode } from "../../shared/device-link.js";
import type { MessageKey } from "../i18n/en.js";
import { errorCode } from "./error-text.js";
import { PASSPHRASE_MIN } from "./onboarding-form.js";

export interface LinkFormInput {
  code: string;
  protect: boolean;
  passphrase: string;
  again: string;
}

export interface LinkFormCheck {
  ready: boolean;
  /** The account the code links to, shown before the user commits. */
  address: string | null;
  /** Why the text is not a code, in words a person can act on: the core's reasons spell out its format. */
  codeError: MessageKey | null;
  passError: MessageKey | null;
}

/** Whether scanned or pasted text is a link code this app reads. */
export function isLinkCode(text: string): boolean {
  try {
    parseLinkCode(text);
    return true;
  } catch {
    return false;
  }
}

/** What the link form shows while a code is pasted: whose account it is, or why it is not a code. */
export function linkFormCheck(input: LinkFormInput): LinkFormCheck {
  let address: string | null = null;
  let codeError: MessageKey | null = null;
  try {
    address = parseLinkCode(input.code).address;
  } catch (error) {
    codeError = errorCode(error) === "unsupported_version" ? "link.otherVersion" : "link.notCode";
  }
  let passError: MessageKey | null = null;
  if (input.protect) {
    if (input.passphrase.length < PASSPHRASE_MIN) passError = "onboarding.passphraseShort";
    else if (input.passphrase !== input.again) passError = "onboarding.passphraseMismatch";
  }
  return { ready: address !== null && passError === null, address, codeError, passError };
}
