import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { jcs, jcsBytes } from "../../shared/canonical.js";
import { EmsgError } from "../../shared/errors.js";

describe("canonical JSON (RFC 8785)", () => {
  it("sorts members by UTF-16 code units and drops insignificant space", () => {
    expect(jcs({ b: 1, a: [true, null, "x"], "\u20ac": 0, "\ud83d\ude00": 1, "\u00e9": 2 })).toBe(
      '{"a":[true,null,"x"],"b":1,"\u00e9":2,"\u20ac":0,"\ud83d\ude00":1}',
    );
  });

  it("writes numbers the way ECMAScript does (RFC 8785 §3.2.2.3 examples)", () => {
    expect(jcs([1e21, 1e-7, -0, 0.000001, 333333333.33333329, 1e23, 4.5])).toBe(
      "[1e+21,1e-7,0,0.000001,333333333.3333333,1e+23,4.5]",
    );
  });

  it("escapes only what JSON requires", () => {
    expect(jcs("\u0000\u001f\"\\/\u2028")).toBe('"\\u0000\\u001f\\"\\\\/\u2028"');
  });

  it("gives UTF-8 bytes", () => {
    expect([...jcsBytes({ k: "é" })]).toEqual([...new TextEncoder().encode('{"k":"é"}')]);
  });

  it.each([
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["a lone surrogate", "\ud800"],
    ["undefined", undefined],
  ])("refuses %s as bad_request", (_name, value) => {
    expect(() => jcs(value)).toThrow(EmsgError);
    try {
      jcs(value);
    } catch (e) {
      expect((e as EmsgError).code).toBe("bad_request");
    }
  });

  it("round-trips: parsing the canonical text and canonicalizing again gives the same text", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = jcs(value);
        expect(jcs(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("does not depend on member order", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(jcs(reversed)).toBe(jcs(obj));
      }),
    );
  });
});
