import { DurableObject } from "cloudflare:workers";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { Domain } from "../shared/address.js";
import { fromB64u, toB64u } from "../shared/base64url.js";
import { EmsgError } from "../shared/errors.js";
import { answerText } from "./http.js";
import { keyIdOf } from "../shared/identity.js";
import {
  DISCOVERY_CACHE_MS,
  originFor,
  parseDiscoveryDoc,
  parseResolverMap,
  serverKey,
  WELL_KNOWN_PATH,
  type DiscoveryDoc,
} from "../shared/discovery.js";
import type { Env } from "./env.js";
import { attempt, type Outcome } from "./outcome.js";

/** A discovery document is a few hundred bytes; a larger answer is refused. */
const MAX_DOC_BYTES = 65536;
import { migrate } from "./sql-schema.js";

export const SOFTWARE = "emsg-worker/0.1.0";
const UNKNOWN_KID_REFETCH_MS = 5000;
const FAILED_FETCH_PAUSE_MS = 1000;

const STEPS = [
  `CREATE TABLE server_key (id INTEGER PRIMARY KEY CHECK (id = 1), private_key TEXT NOT NULL, created INTEGER NOT NULL);
   CREATE TABLE nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (key_id, nonce));
   CREATE INDEX nonces_at ON nonces(at);
   CREATE TABLE buckets (scope TEXT NOT NULL, subject TEXT NOT NULL, tokens REAL NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (scope, subject));
   CREATE TABLE peers (domain TEXT PRIMARY KEY, doc TEXT NOT NULL, fetched INTEGER NOT NULL);
   CREATE TABLE fed_seen (from_domain TEXT NOT NULL, id TEXT NOT NULL, result TEXT NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (from_domain, id));
   CREATE INDEX fed_seen_at ON fed_seen(at);`,
  // The accounts registered here (deleted ones until their name is free again), so a request
  // naming an account that does not exist touches no Account object: each one touched is storage.
  // `complete` is 0 on a server that had accounts before this table: there, an unlisted name may exist.
  `CREATE TABLE accounts (address TEXT PRIMARY KEY);
   CREATE TABLE registry (id INTEGER PRIMARY KEY CHECK (id = 1), complete INTEGER NOT NULL);
   INSERT INTO registry (id, complete) VALUES (1, 0);`,
  // Nonces, rate buckets and federation dedupe moved to the Gate objects of their subjects.
  `DROP TABLE nonces;
   DROP TABLE buckets;
   DROP TABLE fed_seen;`,
];

export interface SigningKey {
  kid: string;
  privateKey: string;
  publicKey: string;
}

/**
 * The server's singleton: its Ed25519 key, the list of accounts, and the cache of peers'
 * discovery documents. No request goes through it as a rule: the Worker keeps copies of the key,
 * of peers' documents and of the names it found listed; replay and rate state is per subject, in
 * Gate objects; per-account state lives in Account objects.
 */
export class ServerObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private key: SigningKey | undefined;
  /** When fetching a peer's document last failed: anyone can name any domain, so failures are not retried at once. */
  private readonly failedFetches = new Map<Domain, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    const fresh = this.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").toArray().length === 0;
    migrate(this.sql, STEPS);
    if (fresh) this.sql.exec("UPDATE registry SET complete = 1");
    // No alarm here any more: one the nonce and bucket sweep set before Gate objects took them over goes.
    void ctx.storage.deleteAlarm();
  }

  /** The key from `EMSG_SERVER_KEY`, else the one made on first start and kept. */
  async signingKey(): Promise<SigningKey> {
    if (this.key) return this.key;
    let priv: Uint8Array;
    if (this.env.EMSG_SERVER_KEY) {
      priv = fromB64u(this.env.EMSG_SERVER_KEY.trim());
    } else {
      const row = this.sql.exec<{ private_key: string }>("SELECT private_key FROM server_key").toArray()[0];
      if (row) priv = fromB64u(row.private_key);
      else {
        priv = ed25519.utils.randomSecretKey();
        this.sql.exec("INSERT INTO server_key (id, private_key, created) VALUES (1, ?, ?)", toB64u(priv), Date.now());
      }
    }
    const pub = ed25519.getPublicKey(priv);
    this.key = { kid: keyIdOf(pub), privateKey: toB64u(priv), publicKey: toB64u(pub) };
    return this.key;
  }

  /** Which of `addresses` are accounts here: every one on a server whose registry is not complete. */
  async lookup(addresses: string[]): Promise<string[]> {
    if (this.sql.exec<{ complete: number }>("SELECT complete FROM registry").one().complete === 0) return addresses;
    return this.sql
      .exec<{ address: string }>("SELECT address FROM accounts WHERE address IN (SELECT value FROM json_each(?))", JSON.stringify(addresses))
      .toArray()
      .map((r) => r.address);
  }

  /** Lists an account before its object is first written (registration). */
  async enroll(address: string): Promise<void> {
    this.sql.exec("INSERT OR IGNORE INTO accounts (address) VALUES (?)", address);
  }

  /** Unlists a name whose tombstone was erased: nothing of it is left. */
  async forget(address: string): Promise<void> {
    this.sql.exec("DELETE FROM accounts WHERE address = ?", address);
  }

  /** A peer's discovery document, from cache (≤ 1 h) or fetched; refetched once on an unknown kid. */
  async peerDoc(domain: Domain, kid?: string): Promise<Outcome<DiscoveryDoc>> {
    return attempt(async () => {
      const now = Date.now();
      const row = this.sql.exec<{ doc: string; fetched: number }>("SELECT doc, fetched FROM peers WHERE domain = ?", domain).toArray()[0];
      if (row) {
        const doc = JSON.parse(row.doc) as DiscoveryDoc;
        const fresh = now - row.fetched < DISCOVERY_CACHE_MS;
        const knowsKid = kid === undefined || serverKey(doc, kid) !== undefined;
        if (fresh && (knowsKid || now - row.fetched < UNKNOWN_KID_REFETCH_MS)) return doc;
      }
      if (now - (this.failedFetches.get(domain) ?? 0) < FAILED_FETCH_PAUSE_MS) {
        throw new EmsgError("peer_unreachable", `${domain} could not be reached a moment ago.`);
      }
      let doc: DiscoveryDoc;
      try {
        doc = await this.fetchDoc(domain);
      } catch (e) {
        this.failedFetches.set(domain, now);
        throw e;
      }
      this.failedFetches.delete(domain);
      this.sql.exec("INSERT OR REPLACE INTO peers (domain, doc, fetched) VALUES (?, ?, ?)", domain, JSON.stringify(doc), now);
      return doc;
    });
  }

  private async fetchDoc(domain: Domain): Promise<DiscoveryDoc> {
    const origin = originFor(domain, parseResolverMap(this.env.EMSG_RESOLVE));
    let res: Response;
    try {
      res = await fetch(`${origin}${WELL_KNOWN_PATH}`, { headers: { accept: "application/json" }, redirect: "manual" });
    } catch {
      throw new EmsgError("peer_unreachable", `${domain} cannot be reached.`);
    }
    if (!res.ok) throw new EmsgError("peer_unreachable", `${domain} answered ${res.status} for its discovery document.`);
    const text = await answerText(res, MAX_DOC_BYTES).catch(() => {
      throw new EmsgError("bad_request", `${domain}'s discovery document is too large.`);
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new EmsgError("bad_request", `${domain}'s discovery document is not JSON.`);
    }
    return parseDiscoveryDoc(json, domain);
  }
}
