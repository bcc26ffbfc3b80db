import { renderSVG } from "uqr";
import type { Address } from "../../shared/address.js";
import { fromB64u } from "../../shared/base64url.js";
import { verifyQrPayload } from "../../shared/safety-number.js";

/** The 12 groups of a safety number in the 3 rows of 4 the dialog shows. */
export function safetyRows(groups: readonly string[]): string[][] {
  return [groups.slice(0, 4), groups.slice(4, 8), groups.slice(8, 12)];
}

/** Our verify code (PROTOCOL §4) as SVG; dark modules on white so any camera reads it, in any theme. */
export function verifyQrSvg(address: Address, accountKeyB64u: string): string {
  return renderSVG(verifyQrPayload(address, fromB64u(accountKeyB64u)), { border: 2, ecc: "M", whiteColor: "#ffffff", blackColor: "#111111" });
}
