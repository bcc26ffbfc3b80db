import { decodeMlsMessage, encodeMlsMessage, type MLSMessage, type MlsMessageContent } from "ts-mls";
import { fromB64u, toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import { CIPHERSUITE_NAME } from "./suite.js";

type Wireformat = MlsMessageContent["wireformat"];
type Of<W extends Wireformat> = Extract<MlsMessageContent, { wireformat: W }>;

const WHAT: Record<Wireformat, string> = {
  mls_key_package: "KeyPackage",
  mls_welcome: "Welcome",
  mls_private_message: "MLS private message",
  mls_public_message: "MLS public message",
  mls_group_info: "GroupInfo",
};

/** b64u of an MLSMessage (RFC 9420 §6), the only form MLS data takes in EMSG JSON. */
export function toWire(content: MlsMessageContent): string {
  return toB64u(encodeMlsMessage({ version: "mls10", ...content } as MLSMessage));
}

/**
 * Reads b64u MLSMessage text and insists on one wireformat, MLS 1.0, the EMSG ciphersuite where the
 * message names one, and no trailing bytes. Anything else → `bad_request`.
 */
export function fromWire<W extends Wireformat>(text: string, wireformat: W): Of<W> {
  const bytes = fromB64u(text);
  let decoded: [MLSMessage, number] | undefined;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch {
    decoded = undefined;
  }
  const what = WHAT[wireformat];
  if (decoded === undefined || decoded[1] !== bytes.length) throw new EmsgError("bad_request", `Not an MLS ${what}.`);
  const [message] = decoded;
  if (message.version !== "mls10") throw new EmsgError("unsupported_version", "Only MLS 1.0 is spoken.");
  if (message.wireformat !== wireformat) throw new EmsgError("bad_request", `Expected an MLS ${what}, got ${WHAT[message.wireformat]}.`);
  const suite =
    message.wireformat === "mls_key_package" ? message.keyPackage.cipherSuite
    : message.wireformat === "mls_welcome" ? message.welcome.cipherSuite
    : CIPHERSUITE_NAME;
  if (suite !== CIPHERSUITE_NAME) throw new EmsgError("bad_request", `The ${what} uses ${suite}, not ${CIPHERSUITE_NAME}.`);
  return message as unknown as Of<W>;
}
