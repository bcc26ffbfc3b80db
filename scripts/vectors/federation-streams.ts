import { answerFrame, BATCH_NUMBER_BYTES, MAX_STREAM_FRAME_BYTES, readAnswerFrame, readBatchFrame, writeBatchNumber } from "../../shared/wire/fed-stream.js";

export const name = "federation-streams";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function batch(description: string, n: number, body: string) {
  const text = new TextEncoder().encode(body);
  const frame = new Uint8Array(BATCH_NUMBER_BYTES + text.byteLength);
  frame.set(text, BATCH_NUMBER_BYTES);
  writeBatchNumber(frame, n);
  const read = readBatchFrame(frame.buffer);
  if (!read || read.n !== n || new TextDecoder().decode(read.body) !== body) throw new Error(`${description}: does not read back`);
  return { description, kind: "batch" as const, n, body, frameHex: hex(frame) };
}

function answer(description: string, frame: string) {
  return { description, kind: "answer" as const, frame, expected: readAnswerFrame(frame) };
}

export async function make() {
  const results = '{"results":[{"id":"AAECAwQFBgcICQoLDA0ODw","ok":true}]}';
  const refused = '{"error":"rate_limited","message":"Too many requests; retry in 1 s."}';
  return {
    description:
      "Federation stream frames (PROTOCOL §7). `batch` cases: the binary frame (`frameHex`) carrying inbox body `body` " +
      `(UTF-8) as batch number \`n\`: the number in ${BATCH_NUMBER_BYTES} bytes unsigned big-endian, then the body. A frame is at most ` +
      `${MAX_STREAM_FRAME_BYTES} bytes. \`answer\` cases: a receiver's text frame and what a sender reads from it ` +
      "(`expected`: the batch number, the HTTP status and the answer's JSON text), or null for a frame that is not an " +
      "answer (the sender then closes the stream). `refusal` cases: a frame a receiver closes the stream on, with the close code.",
    cases: [
      batch("batch 1, the inbox body of one item", 1, '{"items":[{"id":"AAECAwQFBgcICQoLDA0ODw","kind":"bounce"}]}'),
      batch("the largest number", 0xffff_ffff, '{"items":[]}'),
      batch("a body with characters of two to four UTF-8 bytes", 258, '{"items":[{"note":"é 中文 🙂"}]}'),
      answer("batch 7 applied", `7 200 ${results}`),
      answer("batch 8 refused whole (its items untouched)", answerFrame(8, 429, refused)),
      answer("batch 0", "0 400 {}"),
      answer("the largest number", `4294967295 200 ${results}`),
      answer("a number past 32 bits", `4294967296 200 ${results}`),
      answer("a number with a leading zero", `07 200 ${results}`),
      answer("no space before the JSON", `7 200${results}`),
      answer("a status that is not HTTP's", `7 600 ${results}`),
      answer("a status of two digits", `7 20 ${results}`),
      { description: "a text frame from the sender", kind: "refusal" as const, frame: { text: '{"items":[]}' }, closeCode: 1003 },
      { description: "a binary frame of 3 bytes", kind: "refusal" as const, frame: { hex: "000001" }, closeCode: 1003 },
    ],
  };
}
