import fc from "fast-check";
import { decodeUint8, decodeUint16, decodeUint32, decodeUint64, uint8Encoder, uint16Encoder, uint32Encoder, uint64Encoder } from "ts-mls/codec/number.js";
import { optionalEncoder } from "ts-mls/codec/optional.js";
import { CodecError } from "ts-mls/mlsError.js";
import { type Decoder, mapDecoders } from "ts-mls/codec/tlsDecoder.js";
import { type BufferEncoder, contramapBufferEncoders, encode } from "ts-mls/codec/tlsEncoder.js";
import { decodeVarLenData, lengthEncoder, varLenDataEncoder, varLenTypeEncoder } from "ts-mls/codec/variableLength.js";
import { reuseGuardEncoder } from "ts-mls/sender.js";
import { enumNumberToKey, openEnumNumberToKey } from "ts-mls/util/enumHelpers.js";
import { describe, expect, it } from "vitest";

/*
 * patches/ts-mls rewrites three combinators of ts-mls 1.6.4's TLS codec as loops (every struct of a
 * state, tree and message goes through them). Here each is checked against its 1.6.4 text on random
 * layouts and bytes: the same values, lengths, refusals and encodings. Its writers write into the
 * encoded Uint8Array itself instead of into an ArrayBuffer through a DataView each: the second
 * describe checks each writer against its 1.6.4 text, for any value, in range or not.
 */

function oldMapDecoders<T>(decoders: Decoder<unknown>[], f: (...args: unknown[]) => T): Decoder<T> {
  return (b, offset) => {
    const result = decoders.reduce<{ values: unknown[]; offset: number; totalLength: number } | undefined>((acc, decoder) => {
      if (!acc) return undefined;
      const decoded = decoder(b, acc.offset);
      if (!decoded) return undefined;
      const [value, length] = decoded;
      return { values: [...acc.values, value], offset: acc.offset + length, totalLength: acc.totalLength + length };
    }, { values: [], offset, totalLength: 0 });
    if (!result) return;
    return [f(...result.values), result.totalLength];
  };
}

function oldContramapBufferEncoders<T>(encoders: BufferEncoder<unknown>[], toTuple: (t: T) => unknown[]): BufferEncoder<T> {
  return (value) => {
    const values = toTuple(value);
    let totalLength = 0;
    let writeTotal = (_offset: number, _bytes: Uint8Array) => {};
    for (let i = 0; i < encoders.length; i++) {
      const [len, write] = encoders[i]!(values[i]);
      const oldFunc = writeTotal;
      const currentLen = totalLength;
      writeTotal = (offset, buffer) => {
        oldFunc(offset, buffer);
        write(offset + currentLen, buffer);
      };
      totalLength += len;
    }
    return [totalLength, writeTotal];
  };
}

function oldVarLenTypeEncoder<T>(enc: BufferEncoder<T>): BufferEncoder<T[]> {
  return (data) => {
    let totalLength = 0;
    let writeTotal = (_offset: number, _bytes: Uint8Array) => {};
    for (let i = 0; i < data.length; i++) {
      const [len, write] = enc(data[i]!);
      const oldFunc = writeTotal;
      const currentLen = totalLength;
      writeTotal = (offset, buffer) => {
        oldFunc(offset, buffer);
        write(offset + currentLen, buffer);
      };
      totalLength += len;
    }
    const [headerLength, writeLength] = lengthEncoder(totalLength);
    return [headerLength + totalLength, (offset, buffer) => { writeLength(offset, buffer); writeTotal(offset + headerLength, buffer); }];
  };
}

// Field kinds a struct is made of: 0 a uint8, 1 a uint16, 2 variable-length bytes.
const decoders: Decoder<unknown>[] = [decodeUint8, decodeUint16, decodeVarLenData];
const encoders = [uint8Encoder, uint16Encoder, varLenDataEncoder] as BufferEncoder<unknown>[];
const field = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((v) => [0, v] as const),
  fc.integer({ min: 0, max: 65535 }).map((v) => [1, v] as const),
  fc.uint8Array({ maxLength: 80 }).map((v) => [2, v] as const),
);

/** The outcome of a decode, thrown errors included (1.6.4's decoders throw on some short inputs). */
function outcome(run: () => unknown): unknown {
  try {
    return { value: run() };
  } catch (e) {
    return { threw: (e as Error).message };
  }
}

describe("ts-mls codec combinators, patched, against 1.6.4", () => {
  it("mapDecoders: the same values and length, or the same refusal, for any layout and bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 8 }), fc.uint8Array({ maxLength: 64 }), fc.nat(8), (kinds, bytes, offset) => {
        const ds = kinds.map((k) => decoders[k]!);
        const tuple = (...values: unknown[]) => values;
        expect(outcome(() => mapDecoders(ds, tuple)(bytes, offset))).toEqual(outcome(() => oldMapDecoders(ds, tuple)(bytes, offset)));
      }),
      { numRuns: 2000 },
    );
  });

  it("contramapBufferEncoders and varLenTypeEncoder: the same bytes for any struct and list of structs", () => {
    fc.assert(
      fc.property(fc.array(fc.array(field, { maxLength: 6 }), { maxLength: 8 }), (structs) => {
        for (const struct of structs) {
          const es = struct.map(([k]) => encoders[k]!);
          const values = struct.map(([, v]) => v);
          const [patched, old] = [contramapBufferEncoders(es, (t: unknown[]) => t), oldContramapBufferEncoders(es, (t: unknown[]) => t)];
          expect(encode(patched)(values)).toEqual(encode(old)(values));
        }
        const element = contramapBufferEncoders([uint8Encoder, varLenDataEncoder], (s: [number, Uint8Array]) => s);
        const list = structs.map((s) => [s.length, new Uint8Array(s.length)] as [number, Uint8Array]);
        expect(encode(varLenTypeEncoder(element))(list)).toEqual(encode(oldVarLenTypeEncoder(element))(list));
      }),
      { numRuns: 1000 },
    );
  });
});

// 1.6.4's writers: into an ArrayBuffer, through a DataView or Uint8Array made for each write.
type OldEncoder<T> = (t: T) => [number, (offset: number, buffer: ArrayBuffer) => void];

function oldEncode<T>(enc: OldEncoder<T>): (t: T) => Uint8Array {
  return (t) => {
    const [len, write] = enc(t);
    const buf = new ArrayBuffer(len);
    write(0, buf);
    return new Uint8Array(buf);
  };
}

const oldUint8: OldEncoder<number> = (n) => [1, (offset, buffer) => new DataView(buffer).setUint8(offset, n)];
const oldUint16: OldEncoder<number> = (n) => [2, (offset, buffer) => new DataView(buffer).setUint16(offset, n)];
const oldUint32: OldEncoder<number> = (n) => [4, (offset, buffer) => new DataView(buffer).setUint32(offset, n)];
const oldUint64: OldEncoder<bigint> = (n) => [8, (offset, buffer) => new DataView(buffer).setBigUint64(offset, n)];

function oldLength(len: number): [number, (offset: number, buffer: ArrayBuffer) => void] {
  if (len < 64) return [1, (offset, buffer) => new DataView(buffer).setUint8(offset, len & 0b00111111)];
  if (len < 16384) {
    return [2, (offset, buffer) => {
      const view = new DataView(buffer);
      view.setUint8(offset, ((len >> 8) & 0b00111111) | 0b01000000);
      view.setUint8(offset + 1, len & 0xff);
    }];
  }
  if (len >= 0x40000000) throw new CodecError("Length too large to encode (max is 2^30 - 1)");
  return [4, (offset, buffer) => {
    const view = new DataView(buffer);
    view.setUint8(offset, ((len >> 24) & 0b00111111) | 0b10000000);
    view.setUint8(offset + 1, (len >> 16) & 0xff);
    view.setUint8(offset + 2, (len >> 8) & 0xff);
    view.setUint8(offset + 3, len & 0xff);
  }];
}

const oldVarLenData: OldEncoder<Uint8Array> = (data) => {
  const [len, write] = oldLength(data.length);
  return [len + data.length, (offset, buffer) => {
    write(offset, buffer);
    new Uint8Array(buffer).set(data, offset + len);
  }];
};

const oldOptional = <T>(enc: OldEncoder<T>): OldEncoder<T | undefined> => (t) => {
  if (t) {
    const [len, write] = enc(t);
    return [len + 1, (offset, buffer) => {
      new DataView(buffer).setUint8(offset, 0x1);
      write(offset + 1, buffer);
    }];
  }
  return [1, (offset, buffer) => new DataView(buffer).setUint8(offset, 0x0)];
};

const oldReuseGuard: OldEncoder<Parameters<typeof reuseGuardEncoder>[0]> = (g) => [4, (offset, buffer) => new Uint8Array(buffer, offset, 4).set(g, 0)];

/** The bytes, or the kind of error thrown (V8 words some messages differently from one call to another). */
function written(run: () => Uint8Array): unknown {
  try {
    return { bytes: Buffer.from(run()).toString("hex") };
  } catch (e) {
    return { threw: (e as Error).constructor.name };
  }
}

// Numbers in and out of a field's range: negatives, fractions, huge, NaN, infinities.
const anyNumber = fc.oneof(fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 2 ** 53));
const anyBigInt = fc.oneof(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

describe("ts-mls writers, patched to write into the bytes, against 1.6.4", () => {
  it("uint8, uint16 and uint32: the same bytes for any number", () => {
    fc.assert(
      fc.property(anyNumber, (n) => {
        expect(written(() => encode(uint8Encoder)(n))).toEqual(written(() => oldEncode(oldUint8)(n)));
        expect(written(() => encode(uint16Encoder)(n))).toEqual(written(() => oldEncode(oldUint16)(n)));
        expect(written(() => encode(uint32Encoder)(n))).toEqual(written(() => oldEncode(oldUint32)(n)));
      }),
      { numRuns: 3000 },
    );
  });

  it("uint64: the same bytes for any BigInt, the same TypeError for a number", () => {
    fc.assert(
      fc.property(anyBigInt, (n) => {
        expect(written(() => encode(uint64Encoder)(n))).toEqual(written(() => oldEncode(oldUint64)(n)));
      }),
      { numRuns: 3000 },
    );
    for (const wrong of [5, 1.5, "7", true, undefined] as unknown as bigint[]) {
      expect(written(() => encode(uint64Encoder)(wrong))).toEqual(written(() => oldEncode(oldUint64)(wrong)));
    }
  });

  it("lengths, variable-length data, optionals and reuse guards: the same bytes or the same refusal", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 16300, max: 16400 }).map((n) => new Uint8Array(n).fill(7))), fc.boolean(), (data, present) => {
        expect(written(() => encode(varLenDataEncoder)(data))).toEqual(written(() => oldEncode(oldVarLenData)(data)));
        const value = present ? data : undefined;
        expect(written(() => encode(optionalEncoder(varLenDataEncoder))(value))).toEqual(written(() => oldEncode(oldOptional(oldVarLenData))(value)));
        const guard = data.subarray(0, data.length % 7) as unknown as Parameters<typeof reuseGuardEncoder>[0];
        expect(written(() => encode(reuseGuardEncoder)(guard))).toEqual(written(() => oldEncode(oldReuseGuard)(guard)));
      }),
      { numRuns: 500 },
    );
    for (const n of [0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30]) {
      expect(written(() => { const [len, write] = lengthEncoder(n); const out = new Uint8Array(len); write(0, out); return out; }))
        .toEqual(written(() => { const [len, write] = oldLength(n); const out = new ArrayBuffer(len); write(0, out); return new Uint8Array(out); }));
    }
  });
});

// 1.6.4's readers: through a DataView of the whole input, a read past its end an undefined.
function oldDecoder<T>(read: (view: DataView, offset: number) => T, size: number): Decoder<T> {
  return (b, offset) => {
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    try {
      return [read(view, offset), size];
    } catch {
      return undefined;
    }
  };
}

function oldEnumNumberToKey<S extends string>(t: Record<S, number>): (n: number) => S | undefined {
  const reverse = (obj: Record<string, number>) => Object.entries(obj).reduce((acc, [key, value]) => ({ ...acc, [value]: key }), {} as Record<string, string>);
  return (n) => (Object.values(t).includes(n) ? reverse(t)[n] as S : undefined);
}

describe("ts-mls readers, patched, against 1.6.4", () => {
  it("uint16, uint32 and uint64: the same value or the same undefined at any offset of any bytes", () => {
    const olds = [oldDecoder((v, o) => v.getUint16(o), 2), oldDecoder((v, o) => v.getUint32(o), 4), oldDecoder((v, o) => v.getBigUint64(o), 8)];
    const news = [decodeUint16, decodeUint32, decodeUint64] as Decoder<unknown>[];
    const offset = fc.oneof(fc.integer({ min: -3, max: 20 }), fc.double({ min: -2, max: 20 }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.nat(4), offset, (bytes, start, at) => {
        // A view into a larger buffer, as a message's fields are.
        const view = bytes.subarray(Math.min(start, bytes.length));
        for (let i = 0; i < news.length; i++) expect(outcome(() => news[i]!(view, at))).toEqual(outcome(() => olds[i]!(view, at)));
      }),
      { numRuns: 3000 },
    );
  });

  it("enum decoders: the same key or undefined for any number, open enums the same text", () => {
    const kinds = fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 20 }), { maxKeys: 8 });
    fc.assert(
      fc.property(kinds, fc.array(fc.oneof(fc.integer({ min: -1, max: 21 }), fc.double()), { maxLength: 10 }), (t, ns) => {
        const [toKey, openToKey, old] = [enumNumberToKey(t), openEnumNumberToKey(t), oldEnumNumberToKey(t)];
        for (const n of ns) {
          expect(toKey(n)).toBe(old(n));
          expect(openToKey(n)).toBe(old(n) ?? n.toString());
        }
      }),
      { numRuns: 1000 },
    );
  });
});
