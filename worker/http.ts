import * as v from "valibot";
import { EmsgError } from "../shared/errors.js";

/** Request bodies and JSON answers at the Worker's edge: size first, then JSON, then schema. */

/**
 * A body of declared length (the HTTP layer reads exactly that many bytes) is read whole by the
 * runtime: reading it chunk by chunk from JS took a turn of the event loop per chunk, which for a
 * federation batch of a few MB was most of the receiving server's work. An undeclared
 * (chunked) body is read in chunks, so the limit stops it early.
 */
export async function readBody(request: Pick<Request, "headers" | "body" | "arrayBuffer">, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw new EmsgError("too_large", `Bodies are limited to ${maxBytes} bytes.`);
  if (!request.body) return new Uint8Array();
  if (declared !== null && /^\d+$/.test(declared)) return new Uint8Array(await request.arrayBuffer());
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new EmsgError("too_large", `Bodies are limited to ${maxBytes} bytes.`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** What a peer's answer to a request of ours (a claim, a device list, an error) may weigh. */
export const MAX_PEER_ANSWER_BYTES = 1024 * 1024;

/**
 * A peer's answer as text, at most `maxBytes` (too_large past it): a rogue peer must not make this
 * isolate, which also runs hubs and accounts, hold whatever it sends.
 */
export async function answerText(res: Response, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readBody(res, maxBytes));
}

/** A peer's answer as JSON, or null when it is not JSON or over `maxBytes`. */
export async function answerJson(res: Response, maxBytes: number): Promise<unknown> {
  try {
    return JSON.parse(await answerText(res, maxBytes));
  } catch {
    return null;
  }
}

export function parseJson<S extends v.GenericSchema>(bytes: Uint8Array, schema: S): v.InferOutput<S> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new EmsgError("bad_request", "The body is not UTF-8 JSON.");
  }
  return check(schema, json);
}

export function check<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const where = v.getDotPath(issue);
  throw new EmsgError("bad_request", `${where ? `${where}: ` : ""}${issue.message}`);
}

export function errorResponse(error: EmsgError, headers?: Record<string, string>): Response {
  return Response.json(error.toJSON(), { status: error.status, headers });
}

export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}
