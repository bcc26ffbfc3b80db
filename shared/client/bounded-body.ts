/**
 * At most `max` bytes of a response body, the rest cancelled unread. A blob's bytes come from the
 * sender's server through ours, and a rogue one could answer a range with gigabytes: a device
 * holds no more than it asked for.
 */
export async function readAtMost(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    while (length < max) {
      const { done, value } = await reader.read();
      if (done) break;
      const part = value.byteLength > max - length ? value.subarray(0, max - length) : value;
      chunks.push(part);
      length += part.byteLength;
    }
  } finally {
    // Whatever the server sends beyond is not wanted; a failed cancel changes nothing read.
    reader.cancel().catch(() => undefined);
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
