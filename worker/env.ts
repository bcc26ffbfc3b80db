import type { AccountObject } from "./account.js";
import type { BlobObject } from "./blobs.js";
import type { ConversationObject } from "./conversation.js";
import type { GateObject } from "./gate.js";
import type { OutboxObject } from "./outbox.js";
import type { ServerObject } from "./server.js";

/** Bindings and configuration of the EMSG Worker (see wrangler.toml). */
export interface Env {
  /** This server's own domain, e.g. `im.alice.test`. Required. */
  EMSG_DOMAIN: string;
  /** Development resolver map `name=origin,…` (PROTOCOL §3). */
  EMSG_RESOLVE?: string;
  /** b64u Ed25519 private key for deploys; otherwise one is made on first start and kept. */
  EMSG_SERVER_KEY?: string;
  /** Rate limits `account=burst:perSecond,ip=…,peer=…`. */
  EMSG_RATE?: string;
  /** Outbox objects per peer domain, 1 (default) to 64: a large domain's traffic to one peer spread by conversation (docs/scale.md). */
  EMSG_OUTBOX_SHARDS?: string;
  /** Largest sealed attachment blob in bytes (default 104883200, at most that); see blob-limits.ts. */
  EMSG_MAX_BLOB_BYTES?: string;
  /** Sealed attachment bytes an account may keep at once (default 1073741824, at least the largest blob). */
  EMSG_BLOB_QUOTA_BYTES?: string;
  /** "1" on benchmark servers only: calls per Durable Object kind are counted (see call-counts.ts). */
  EMSG_COUNT_CALLS?: string;
  ACCOUNT: DurableObjectNamespace<AccountObject>;
  CONVERSATION: DurableObjectNamespace<ConversationObject>;
  OUTBOX: DurableObjectNamespace<OutboxObject>;
  SERVER: DurableObjectNamespace<ServerObject>;
  GATE: DurableObjectNamespace<GateObject>;
  BLOB: DurableObjectNamespace<BlobObject>;
  /** Sealed attachment blobs (PROTOCOL §15.3). */
  BLOBS: R2Bucket;
  ASSETS?: Fetcher;
}
