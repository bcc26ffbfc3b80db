import { parseAddress } from "../../shared/address.js";
import { errorCodeOf } from "./_fixed-keys.js";

export const name = "addresses";

const INPUTS = [
  "alice#im.example.com",
  "  Alice#IM.Example.COM ",
  "emsg:bob#im.b.org",
  "EMSG:bob#im.b.org",
  "bob\uff03im.b.org",
  "jo#im.b\u00fccher.de",
  "jo#im.xn--bcher-kva.de",
  "a.b_c-d#x.y",
  "carol#im.example.com.",
  `${"n".repeat(64)}#im.example.com`,
  `x#${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`,
  "alice",
  "alice@im.example.com",
  "#im.example.com",
  "alice#",
  "alice#localhost",
  "alice#127.0.0.1",
  "alice#[::1]",
  "alice#im.example.com:443",
  "alice#im.example.com/x",
  "a..b#x.y",
  ".a#x.y",
  "a.#x.y",
  "a#-x.y",
  "a#x-.y",
  `${"n".repeat(65)}#im.example.com`,
  `x#${"a".repeat(64)}.com`,
  // A-labels of exactly 63 and 64 characters (xn-- counted), as typed and as sent.
  `x#${"a".repeat(55)}\u00fc.com`,
  `x#xn--${"a".repeat(55)}-8yf.com`,
  `x#${"a".repeat(56)}\u00fc.com`,
  // An xn-- label that is no Punycode, and one that decodes to what IDNA forbids.
  "x#xn--zz.com",
  "x#xn--a.com",
  // One trailing dot is the DNS root, dropped from input; two leave an empty label.
  "carol#im.example.com..",
  // What a URL parser reads as an IPv4 address is no host name, however it is written.
  "alice#1.2.3.4.",
  "alice#0x7f.0x1",
  "alice#im.123",
  "alice#im.0x10",
  "alice#123.im",
  // IDNA (UTS #46, non-transitional): ß stays ß; a zero-width joiner between Latin letters is refused.
  "x#fa\u00df.de",
  "x#a\u200db.com",
  "a#b#c.d",
  "a b#x.y",
  "\u00e5lice#x.y",
  "",
];

export async function make() {
  return {
    description:
      "EMSG addresses (PROTOCOL §2). For each `input`, a reader either gets the normal form `address` " +
      "(and `isNormal` tells whether `input` itself is already in normal form, as every wire field must be) " +
      "or refuses it with the error code `error`.",
    cases: INPUTS.map((input) => {
      const error = errorCodeOf(() => parseAddress(input));
      if (error) return { input, error };
      const address = parseAddress(input).address;
      return { input, address, isNormal: address === input };
    }),
  };
}
