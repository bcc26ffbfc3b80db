import * as v from "valibot";
import { SubmitSchema } from "../../shared/wire/conversation.js";
import { countingB64u } from "./_fixed-keys.js";

export const name = "submits";

/**
 * Submit sizes (PROTOCOL §6): `mls` of an application message or proposal holds at most
 * `maxMessageBytes` (65536) bytes once decoded, a commit's `mls` and a `welcome` at most
 * `maxBodyBytes` (262144). b64u of n bytes is ⌈4n/3⌉ characters: 87 382 and 349 526.
 */
const cases: { description: string; kind: string; mlsChars: number; welcomeChars?: number }[] = [
  { description: "an application message of 65536 bytes", kind: "application", mlsChars: 87_382 },
  { description: "an application message of one character more", kind: "application", mlsChars: 87_383 },
  { description: "a proposal over maxMessageBytes", kind: "proposal", mlsChars: 87_383 },
  { description: "a commit over maxMessageBytes (an empty commit in a group of 60 devices is about 80 KB)", kind: "commit", mlsChars: 110_000 },
  { description: "a commit of 262144 bytes", kind: "commit", mlsChars: 349_526 },
  { description: "a commit over maxBodyBytes", kind: "commit", mlsChars: 349_527 },
  { description: "a commit with a Welcome over maxBodyBytes", kind: "commit", mlsChars: 4, welcomeChars: 349_527 },
];

export async function make() {
  return {
    description:
      "Submit sizes (PROTOCOL §6), checked before the MLS framing: `mls` (and `welcome`, when given) are `A` repeated " +
      "`mlsChars` (`welcomeChars`) times, canonical b64u of zero bytes. `error` is null when the Submit is accepted " +
      "(so far), else the code, with `member` the member it names.",
    cases: cases.map(({ description, kind, mlsChars, welcomeChars }) => {
      const submit = { id: countingB64u(16), epoch: 3, kind, mls: "A".repeat(mlsChars), ...(welcomeChars ? { welcome: "A".repeat(welcomeChars) } : {}) };
      const parsed = v.safeParse(SubmitSchema, submit);
      const base = { description, kind, mlsChars, ...(welcomeChars ? { welcomeChars } : {}) };
      return parsed.success ? { ...base, error: null } : { ...base, error: "bad_request", member: v.getDotPath(parsed.issues[0]) };
    }),
  };
}
