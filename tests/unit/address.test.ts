import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { asAddress, domainOf, nameOf, parseAddress, parseDomain } from "../../shared/address.js";
import { EmsgError } from "../../shared/errors.js";

function refusal(fn: () => unknown): EmsgError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return e as EmsgError;
  }
  throw new Error("expected a refusal");
}

describe("addresses", () => {
  it("normalizes case, spaces, an emsg: prefix and a full-width ＃", () => {
    expect(parseAddress("  Alice#IM.Example.COM ").address).toBe("alice#im.example.com");
    expect(parseAddress("emsg:bob#im.b.org").address).toBe("bob#im.b.org");
    expect(parseAddress("bob＃im.b.org").address).toBe("bob#im.b.org");
  });

  it("turns an international server name into its A-label form", () => {
    expect(parseAddress("jo#im.bücher.de").address).toBe("jo#im.xn--bcher-kva.de");
  });

  it.each([
    ["alice", "with a #"],
    ["alice@im.a.com", "with a #"],
    ["#im.a.com", "empty"],
    ["alice#", "empty"],
    ["a#b#c.d", "exactly one #"],
    ["al ice#im.a.com", "a-z"],
    ["a..b#im.a.com", "a-z"],
    [".a#im.a.com", "a-z"],
    ["a#localhost", "at least one dot"],
    ["a#10.0.0.1", "not an IP"],
    ["a#im.a.com:8080", "only a host name"],
    ["a#-x.com", "valid part"],
    [`${"a".repeat(65)}#im.a.com`, "longer than 64"],
    [`a#${"b".repeat(250)}.com`, "253"],
    [`a#xn--${"b".repeat(63)}.com`, "valid part"],
  ])("refuses %s with a clear bad_request", (input, words) => {
    const e = refusal(() => parseAddress(input));
    expect(e.code).toBe("bad_request");
    expect(e.message).toContain(words);
  });

  it("counts an A-label's xn-- toward a label's 63 characters", () => {
    expect(parseDomain(`xn--${"b".repeat(59)}.com`)).toBe(`xn--${"b".repeat(59)}.com`);
    expect(refusal(() => parseDomain(`xn--${"b".repeat(60)}.com`)).code).toBe("bad_request");
  });

  it("accepts only the normal form on the wire", () => {
    expect(asAddress("alice#im.a.com")).toBe("alice#im.a.com");
    expect(refusal(() => asAddress("Alice#im.a.com")).message).toContain("normal form");
    expect(refusal(() => asAddress(42)).code).toBe("bad_request");
  });

  it("answers a repeated wire check the same, as the first time, however many addresses came between", () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5000; i++) expect(asAddress(`user${i}#im.a.com`)).toBe(`user${i}#im.a.com`);
      expect(refusal(() => asAddress("User1#im.a.com")).message).toContain("normal form");
      expect(refusal(() => asAddress("user1#im.a.com ")).message).toContain("normal form");
      expect(refusal(() => asAddress("user1#IM.a.com")).message).toContain("normal form");
    }
  });

  it("refuses a host that a URL parser reads as an IPv4 address, however it is written", () => {
    // Each of these would reach 127.0.0.1 or fail in fetch(), not a server of that name.
    for (const input of ["a#127.0.0.1", "a#0x7f.0x1", "a#0177.1", "a#im.123", "a#im.0x10", "a#2130706433.", "a#127.1"]) {
      expect(refusal(() => parseAddress(input)).code, input).toBe("bad_request");
    }
    expect(parseAddress("a#123.im").address).toBe("a#123.im");
  });

  it("splits name and domain", () => {
    const a = asAddress("alice#im.a.com");
    expect(nameOf(a)).toBe("alice");
    expect(domainOf(a)).toBe("im.a.com");
  });

  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
  const name = fc.stringMatching(/^[a-z0-9](?:[._-]?[a-z0-9]){0,20}$/);
  // A URL parser reads a host whose last label is a number as IPv4, and an xn-- label must be Punycode (§2).
  const domain = fc
    .array(label, { minLength: 2, maxLength: 4 })
    .filter((ls) => !/^(?:[0-9]+|0x[0-9a-f]*)$/.test(ls.at(-1)!) && !ls.some((l) => l.startsWith("xn--")))
    .map((ls) => ls.join("."));

  it("round-trips every valid address unchanged (property)", () => {
    fc.assert(
      fc.property(name, domain, (n, d) => {
        const parsed = parseAddress(`${n}#${d}`);
        expect(parsed.address).toBe(`${n}#${d}`);
        expect(parseAddress(parsed.address.toUpperCase()).address).toBe(parsed.address);
      }),
    );
  });

  it("never throws anything but a typed error on arbitrary input (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), (s) => {
        try {
          parseAddress(s);
          parseDomain(s);
        } catch (e) {
          expect(e).toBeInstanceOf(EmsgError);
        }
      }),
    );
  });
});
