import fc from "fast-check";
import { decodeUint8, decodeUint16, uint8Encoder, uint16Encoder } from "ts-mls/codec/number.js";
import { type Decoder, mapDecoders } from "ts-mls/codec/tlsDecoder.js";
import { type BufferEncoder, contramapBufferEncoders, encode } from "ts-mls/codec/tlsEncoder.js";
import { decodeVarLenData, lengthEncoder, varLenDataEncoder, varLenTypeEncoder } from "ts-mls/codec/variableLength.js";
import { describe, expect, it } from "vitest";

/*
 * patches/ts-mls rewrites three combinators of ts-mls 1.6.4's TLS codec as loops (every struct of a
 * state, tree and message goes through them). Here each is checked against its 1.6.4 text on random
 * layouts and bytes: the same values, lengths, refusals and encodings.
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
    let writeTotal = (_offset: number, _buffer: ArrayBuffer) => {};
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
    let writeTotal = (_offset: number, _buffer: ArrayBuffer) => {};
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
