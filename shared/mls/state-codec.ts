import { decodeGroupState as decodeMlsGroupState, encodeGroupState as encodeMlsGroupState } from "ts-mls";
import { fromB64u, toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import { asClient, asGroupState, type GroupState } from "./group-state.js";
import { cipherSuite, clientConfig } from "./suite.js";

// Leads the stored bytes so a later layout (or a ts-mls whose state codec changed) is told apart.
const FORMAT = 1;

/**
 * A group state as b64u text for the device's store: ts-mls's own TLS codec of the whole state
 * (epoch secrets, trees, retained past epochs, bigints and maps), behind one format byte.
 * Secret: it contains the device's signature key.
 */
export function encodeGroupState(state: GroupState): string {
  const body = encodeMlsGroupState(asClient(state));
  const out = new Uint8Array(body.length + 1);
  out[0] = FORMAT;
  out.set(body, 1);
  return toB64u(out);
}

export async function decodeGroupState(text: string): Promise<GroupState> {
  const bytes = fromB64u(text);
  if (bytes[0] !== FORMAT) throw new EmsgError("bad_request", "A stored conversation state has an unknown format.");
  let decoded: ReturnType<typeof decodeMlsGroupState>;
  try {
    decoded = decodeMlsGroupState(bytes, 1);
  } catch {
    decoded = undefined;
  }
  if (decoded === undefined || decoded[1] !== bytes.length - 1) throw new EmsgError("bad_request", "A stored conversation state is damaged.");
  const [state] = decoded;
  const cs = await cipherSuite();
  if (state.groupContext.cipherSuite !== cs.name) throw new EmsgError("bad_request", "A stored conversation state uses another ciphersuite.");
  return asGroupState({ ...state, clientConfig });
}
