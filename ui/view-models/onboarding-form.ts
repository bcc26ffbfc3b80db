import { parseName } from "../../shared/address.js";
import type { MessageKey } from "../i18n/en.js";
import { errorSentence } from "./error-text.js";

export const PASSPHRASE_MIN = 8;

export interface OnboardingInput {
  name: string;
  domain: string;
  protect: boolean;
  passphrase: string;
  again: string;
}

export interface OnboardingCheck {
  ready: boolean;
  name: string;
  address: string | null;
  nameError: string | null;
  passError: MessageKey | null;
}

/** What the onboarding form shows while typing: the address it will make, or why not yet. */
export function onboardingCheck(input: OnboardingInput): OnboardingCheck {
  let name = "";
  let nameError: string | null = null;
  try {
    name = parseName(input.name);
  } catch (error) {
    nameError = errorSentence(error);
  }
  let passError: MessageKey | null = null;
  if (input.protect) {
    if (input.passphrase.length < PASSPHRASE_MIN) passError = "onboarding.passphraseShort";
    else if (input.passphrase !== input.again) passError = "onboarding.passphraseMismatch";
  }
  const address = nameError === null && input.domain ? `${name}#${input.domain}` : null;
  return { ready: address !== null && passError === null, name, address, nameError, passError };
}
