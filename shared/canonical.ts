import canonicalize from "canonicalize";
import { EmsgError } from "./errors.js";

const utf8 = new TextEncoder();

/** RFC 8785 (JCS) text of a JSON value; anything JSON cannot carry is refused as `bad_request`. */
export function jcs(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (e) {
    throw new EmsgError("bad_request", `Not representable as canonical JSON: ${(e as Error).message}.`);
  }
  if (text === undefined) throw new EmsgError("bad_request", "Not representable as canonical JSON: no JSON value.");
  return text;
}

/** UTF-8 bytes of `jcs(value)`: what EMSG signs and hashes. */
export function jcsBytes(value: unknown): Uint8Array {
  return utf8.encode(jcs(value));
}
