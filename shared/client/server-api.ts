import * as v from "valibot";
import type { Domain } from "../address.js";
import { apiBaseOf, parseDiscoveryDoc, WELL_KNOWN_PATH } from "../discovery.js";
import { EmsgError, errorFromBody } from "../errors.js";
import { CLIENT_COMPONENTS, signMessage } from "../http-signature.js";
import { randomId16 } from "../ids.js";
import type { Clock, HttpRequest, HttpResponse, Transport } from "./transport.js";

export interface RequestSigner {
  keyId: string;
  privateKey: Uint8Array;
}

const utf8 = new TextEncoder();

/** Anything a server answers that is not JSON at all is its fault, not ours. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new EmsgError("internal", "The server answered something that is not JSON.");
  }
}

/**
 * The client's line to its own server (PROTOCOL §5, §6): finds the API base from the discovery
 * document, signs every request with the device key, and turns error bodies into EmsgErrors.
 */
export class ServerApi {
  readonly origin: string;
  readonly domain: Domain;
  #transport: Transport;
  #clock: Clock;
  #signer: RequestSigner | undefined;
  #apiBase: string | undefined;

  constructor(transport: Transport, clock: Clock, origin: string, domain: Domain) {
    this.#transport = transport;
    this.#clock = clock;
    this.origin = origin.replace(/\/+$/, "");
    this.domain = domain;
  }

  setSigner(signer: RequestSigner): void {
    this.#signer = signer;
  }

  async #send(url: string, init: HttpRequest) {
    try {
      return await this.#transport.fetch(url, init);
    } catch {
      throw new EmsgError("unavailable", `The server at ${this.origin} cannot be reached right now.`);
    }
  }

  /** The absolute API base, read once from the discovery document (PROTOCOL §3). */
  async apiBase(): Promise<string> {
    if (this.#apiBase) return this.#apiBase;
    const res = await this.#send(`${this.origin}${WELL_KNOWN_PATH}`, { method: "GET", headers: { accept: "application/json" } });
    if (res.status !== 200) throw new EmsgError("not_found", `${this.origin} does not serve an EMSG discovery document.`);
    const doc = parseDiscoveryDoc(parseJson(await res.text()), this.domain);
    this.#apiBase = apiBaseOf(doc, this.origin);
    return this.#apiBase;
  }

  /**
   * One API call. `path` is relative to the API base; `body` is sent as JSON. The answer is
   * checked against `schema` when given; 204 gives `undefined`.
   */
  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    schema?: v.GenericSchema<unknown, T>,
  ): Promise<T> {
    const url = `${await this.apiBase()}${path}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: "application/json", "emsg-to": this.domain };
    if (text !== undefined) headers["content-type"] = "application/json";
    if (this.#signer) Object.assign(headers, this.#sign(method, url, headers, text === undefined ? undefined : utf8.encode(text)));
    const res = await this.#send(url, { method, headers, ...(text === undefined ? {} : { body: text }) });
    return this.#answer(res, method, path, schema);
  }

  /** A signed call whose body is bytes (an attachment's part, PROTOCOL §15.3). */
  async callBytes<T>(method: string, path: string, bytes: Uint8Array, schema: v.GenericSchema<unknown, T>): Promise<T> {
    const url = `${await this.apiBase()}${path}`;
    const headers: Record<string, string> = { accept: "application/json", "emsg-to": this.domain, "content-type": "application/octet-stream" };
    // The platform's SHA-256 for the Content-Digest: megabytes hashed in JavaScript cost far more.
    if (this.#signer) Object.assign(headers, this.#sign(method, url, headers, bytes, new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>))));
    return this.#answer(await this.#send(url, { method, headers, bytes: bytes as Uint8Array<ArrayBuffer> }), method, path, schema);
  }

  /** Bytes `from` to `to` (inclusive) of a blob (§15.3), asked with a signed GET. */
  async getBytes(path: string, from: number, to: number): Promise<Uint8Array> {
    const url = `${await this.apiBase()}${path}`;
    const headers: Record<string, string> = { "emsg-to": this.domain, range: `bytes=${from}-${to}` };
    if (this.#signer) Object.assign(headers, this.#sign("GET", url, headers, undefined));
    const res = await this.#send(url, { method: "GET", headers });
    if (res.status !== 200 && res.status !== 206) {
      const answer = await res.text();
      throw errorFromBody(answer ? parseJson(answer) : undefined);
    }
    if (!res.bytes) throw new EmsgError("internal", "This platform's transport cannot read bytes.");
    let bytes: Uint8Array;
    try {
      // A server that ignores Range sends it all from the start: only what was asked for is read.
      bytes = await res.bytes(res.status === 200 ? to + 1 : to - from + 1);
    } catch {
      // The link dropped part way through the body: like no answer at all, so the range is asked again.
      throw new EmsgError("unavailable", `The server at ${this.origin} stopped answering part way.`);
    }
    return res.status === 200 ? bytes.subarray(from) : bytes;
  }

  async #answer<T>(res: HttpResponse, method: string, path: string, schema?: v.GenericSchema<unknown, T>): Promise<T> {
    const answer = await res.text();
    if (res.status < 200 || res.status > 299) throw errorFromBody(answer ? parseJson(answer) : undefined);
    if (res.status === 204 || answer === "") return undefined as T;
    const json = parseJson(answer);
    if (!schema) return json as T;
    const parsed = v.safeParse(schema, json);
    if (!parsed.success) throw new EmsgError("internal", `The server's answer to ${method} ${path} is malformed: ${parsed.issues[0].message}`);
    return parsed.output;
  }

  #sign(method: string, url: string, headers: Record<string, string>, body: Uint8Array | undefined, bodyHash?: Uint8Array) {
    const signer = this.#signer!;
    return signMessage(
      { method, url, headers, ...(body === undefined ? {} : { body }) },
      {
        keyId: signer.keyId,
        privateKey: signer.privateKey,
        created: Math.floor(this.#clock.now() / 1000),
        nonce: randomId16(),
        components: CLIENT_COMPONENTS,
        ...(bodyHash === undefined ? {} : { bodyHash }),
      },
    );
  }

  /** The mailbox WebSocket URL for a ticket (PROTOCOL §5). */
  async socketUrl(ticket: string): Promise<string> {
    const base = (await this.apiBase()).replace(/^http/, "ws");
    return `${base}/ws?ticket=${encodeURIComponent(ticket)}`;
  }

  openSocket(url: string) {
    return this.#transport.openSocket(url);
  }
}
