import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { asDomain, type Domain } from "../../shared/address.js";
import { buildDiscoveryDoc, WELL_KNOWN_PATH } from "../../shared/discovery.js";
import { FEDERATION_COMPONENTS, serverKeyId, signMessage } from "../../shared/http-signature.js";
import { asAddress } from "../../shared/address.js";
import { certifyDevice, generateKeyPair, keyIdOf, type KeyPair } from "../../shared/identity.js";
import type { EmsgClient } from "../../shared/client/client.js";
import type { DeviceIdentity } from "../../shared/mls/index.js";
import { befriend, newClient, type Pair, removeClientDirs, startPair } from "./harness.js";
import { randomId16 } from "../../shared/ids.js";
import { answerFrame, BATCH_NUMBER_BYTES } from "../../shared/wire/index.js";
import { WebSocketServer } from "ws";

/**
 * A rogue domain under the test's control (issue 14): it serves a real discovery document with a
 * key it holds, so every federation request it sends is correctly signed, while what the requests
 * say is whatever the test makes it lie about. It also answers the federation calls real servers
 * make to it (their Outboxes deliver to it as to any peer) and records what they sent.
 */
export interface Rogue {
  domain: Domain;
  origin: string;
  key: KeyPair;
  kid: string;
  /** Every federation request a real server sent to the rogue, body parsed, in arrival order. */
  received: { path: string; from: string; body: unknown }[];
  /** Answers the rogue gives to `POST {path}` (default: every inbox item ok; anything else not_found). */
  answer(path: string, handler: (body: unknown) => { status: number; body: unknown }): void;
  /**
   * With `streams`, the rogue takes federation streams (PROTOCOL §7) and records each batch frame
   * as a request to the stream's path; without, it answers their opening 404 as a server of an
   * earlier version would. `dropStreamBatches(n)`: the next n batch frames close the stream
   * unanswered (recorded all the same), as a peer that crashed would.
   */
  dropStreamBatches(count: number): void;
  /** Serves every `GET {api}/blobs/…` the rogue gets with `handler`, as it likes (PROTOCOL §15.3). */
  serveBlobs(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** How many streams real servers opened to the rogue (with `streams`). */
  streamsOpened(): number;
  /** A correctly signed federation POST from the rogue to a real server (PROTOCOL §7). */
  post(origin: string, to: string, path: string, body: unknown, opts?: { nonce?: string; from?: string; key?: KeyPair }): Promise<{ status: number; body: any }>;
  /** `post` to `/emsg/v1/federation/inbox` with `{ items }`. */
  inbox(origin: string, to: string, items: unknown[]): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

const FEDERATION_BASE = "/emsg/v1/federation";

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Starts the rogue on 127.0.0.1:`port`; give real servers `{ [domain]: rogue.origin }` as extra resolve entries. */
export async function startRogue(domain: string, port: number, opts: { streams?: boolean } = {}): Promise<Rogue> {
  const name = asDomain(domain);
  const key = generateKeyPair();
  const kid = keyIdOf(key.publicKey);
  const origin = `http://127.0.0.1:${port}`;
  const doc = buildDiscoveryDoc({ domain: name, keys: [{ kid, key: key.publicKey }], software: "e2e-rogue/1" });
  const received: Rogue["received"] = [];
  const handlers = new Map<string, (body: unknown) => { status: number; body: unknown }>();
  handlers.set(`${FEDERATION_BASE}/inbox`, (body) => {
    const items = (body as { items?: { id?: string }[] })?.items ?? [];
    return { status: 200, body: { results: items.map((i) => ({ id: i?.id ?? "", ok: true })) } };
  });

  let blobs: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", origin).pathname;
      if (req.method === "GET" && blobs && path.startsWith("/emsg/v1/blobs/")) return blobs(req, res);
      const text = req.method === "POST" ? await readBody(req) : "";
      let answer: { status: number; body: unknown };
      if (req.method === "GET" && path === WELL_KNOWN_PATH) answer = { status: 200, body: doc };
      else {
        let parsed: unknown = undefined;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = text;
        }
        received.push({ path, from: String(req.headers["emsg-from"] ?? ""), body: parsed });
        const handler = handlers.get(path);
        answer = handler ? handler(parsed) : { status: 404, body: { error: "not_found", message: "The rogue has no such call." } };
      }
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    })();
  });
  let drops = 0;
  let opened = 0;
  const sockets = opts.streams ? new WebSocketServer({ noServer: true }) : undefined;
  if (sockets) {
    server.on("upgrade", (req, socket, head) => {
      if (new URL(req.url ?? "/", origin).pathname !== `${FEDERATION_BASE}/stream`) return socket.destroy();
      const from = String(req.headers["emsg-from"] ?? "");
      sockets.handleUpgrade(req, socket, head, (ws) => {
        opened++;
        ws.on("message", (data: Buffer, isBinary) => {
          if (!isBinary || data.length < BATCH_NUMBER_BYTES) return ws.close(1003);
          const n = data.readUInt32BE(0);
          const body = JSON.parse(data.subarray(BATCH_NUMBER_BYTES).toString("utf8")) as unknown;
          received.push({ path: `${FEDERATION_BASE}/stream`, from, body });
          if (drops > 0) {
            drops--;
            return ws.terminate();
          }
          const answer = handlers.get(`${FEDERATION_BASE}/inbox`)!(body);
          ws.send(answerFrame(n, answer.status, JSON.stringify(answer.body)));
        });
      });
    });
  }
  await new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok));

  const post: Rogue["post"] = async (target, to, path, body, opts = {}) => {
    const url = `${target}${FEDERATION_BASE}${path}`;
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    const from = opts.from ?? name;
    const headers: Record<string, string> = { "content-type": "application/json", "emsg-from": from, "emsg-to": to };
    Object.assign(
      headers,
      signMessage(
        { method: "POST", url, headers, body: bytes },
        {
          keyId: serverKeyId(asDomain(from), kid),
          privateKey: (opts.key ?? key).privateKey,
          created: Math.floor(Date.now() / 1000),
          nonce: opts.nonce ?? randomId16(),
          components: FEDERATION_COMPONENTS,
        },
      ),
    );
    const res = await fetch(url, { method: "POST", headers, body: bytes });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // A non-JSON answer is itself what a test asserts against.
    }
    return { status: res.status, body: parsed };
  };

  return {
    domain: name,
    origin,
    key,
    kid,
    received,
    dropStreamBatches: (count) => void (drops = count),
    streamsOpened: () => opened,
    serveBlobs: (handler) => void (blobs = handler),
    answer: (path, handler) => void handlers.set(`${FEDERATION_BASE}${path}`, handler),
    post,
    inbox: (target, to, items) => post(target, to, "/inbox", { items }),
    close: () => {
      for (const ws of sockets?.clients ?? []) ws.terminate();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** A device of the rogue's making: its certificate for `claimed`, signed by `accountKey` (a key the rogue made, by default). */
export function rogueDevice(claimed: string, accountKey: KeyPair = generateKeyPair()): DeviceIdentity {
  const device = generateKeyPair();
  return {
    deviceCert: certifyDevice(accountKey, asAddress(claimed), device.publicKey, "rogue", Date.now()),
    devicePrivateKey: device.privateKey,
    devicePublicKey: device.publicKey,
  };
}

/** Two real domains and the rogue, with alice#im.alice.test and bob#im.bob.test registered and friends. */
export interface RogueWorld {
  rogue: Rogue;
  pair: Pair;
  alice: EmsgClient;
  bob: EmsgClient;
  stop(): Promise<void>;
}

/** Starts the pair on `portBase` (inspectors on `inspectorBase`) and the rogue im.evil.test on `roguePort`. */
export async function startRogueWorld(portBase: number, inspectorBase: number, roguePort: number): Promise<RogueWorld> {
  const rogue = await startRogue("im.evil.test", roguePort);
  const pair = await startPair(portBase, inspectorBase, { [rogue.domain]: rogue.origin });
  const alice = (await newClient(pair)).client;
  const bob = (await newClient(pair)).client;
  await alice.register("alice#im.alice.test", { label: "alice laptop" });
  await bob.register("bob#im.bob.test", { label: "bob phone" });
  await befriend(alice, bob, "hi Bob");
  return {
    rogue,
    pair,
    alice,
    bob,
    async stop() {
      alice.disconnect();
      bob.disconnect();
      await pair.stop();
      await rogue.close();
      await removeClientDirs();
    },
  };
}
