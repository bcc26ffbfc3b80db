import { renderSVG } from "uqr";

/** Splits a 60-digit safety number into the 12 groups of 5 people read aloud, in 3 rows of 4. */
export function safetyGroups(digits: string): string[] {
  const clean = digits.replace(/\D/g, "");
  if (clean.length !== 60) throw new Error(`A safety number has 60 digits, not ${clean.length}.`);
  return clean.match(/\d{5}/g)!;
}

export function safetyRows(groups: readonly string[]): string[][] {
  return [groups.slice(0, 4), groups.slice(4, 8), groups.slice(8, 12)];
}

/** The QR payload of PROTOCOL.md §4: `emsg-verify:1:ADDRESS:b64u(accountKey)` of the one showing it. */
export function verifyPayload(address: string, accountKeyB64u: string): string {
  return `emsg-verify:1:${address}:${accountKeyB64u}`;
}

/** The QR code as SVG markup; dark modules on white so any camera reads it, in any theme. */
export function verifyQrSvg(address: string, accountKeyB64u: string): string {
  return renderSVG(verifyPayload(address, accountKeyB64u), { border: 2, ecc: "M", whiteColor: "#ffffff", blackColor: "#111111" });
}
