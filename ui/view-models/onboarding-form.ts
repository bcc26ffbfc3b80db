import { NAME_MAX, parseName } from "../../shared/address.js";
import type { MessageKey } from "../i18n/en.js";

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
  /** Why the name cannot be used, said once, in place of the hint that states the rule. */
  nameError: MessageKey | null;
  passError: MessageKey | null;
}

/** What the onboarding form shows while typing: the address it will make, or why not yet. */
export function onboardingCheck(input: OnboardingInput): OnboardingCheck {
  let name = "";
  let nameError: MessageKey | null = null;
  try {
    name = parseName(input.name);
  } catch {
    nameError = whyNameRefused(input.name);
  }
  let passError: MessageKey | null = null;
  if (input.protect) {
    if (input.passphrase.length < PASSPHRASE_MIN) passError = "onboarding.passphraseShort";
    else if (input.passphrase !== input.again) passError = "onboarding.passphraseMismatch";
  }
  const address = nameError === null && input.domain ? `${name}#${input.domain}` : null;
  return { ready: address !== null && passError === null, name, address, nameError, passError };
}

/** Which of the address rules a refused name breaks (upper case is no fault: it is made lower). */
function whyNameRefused(input: string): MessageKey {
  const name = input.normalize("NFKC").trim();
  if (name === "") return "onboarding.nameMissing";
  if (name.length > NAME_MAX) return "onboarding.nameLong";
  if (/\s/.test(name)) return "onboarding.nameSpace";
  return "onboarding.nameBad";
}
