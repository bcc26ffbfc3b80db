// What was done to make EMSG faster, with the figures before and after each step. Hand-kept:
// the tables above are rewritten by every run, this history is not.
export const CHANGES = `## Making EMSG faster: what changed

Figures from runs on this same 2-core machine; each step was measured back to back with the one
before it, while other work loaded the machine, so compare within a row, not across rows.

| step | before | after |
|---|---|---|
| First full comparison (2026-12-01 morning, plan \`quick\`): one signed HTTP request per message, 4 in flight | federated 47 msgs/s, p50 291 ms (Prosody 2,937 msgs/s, 7 ms) | — |
| base64url decoded with a table and checked from its last character (every MLS message a server validated was decoded twice) | ~1 ms per message in workerd | (removed) |
| Hub fan-out in batches: one accept round, one account delivery call, one Outbox enqueue per domain per round | same domain 17–24 msgs/s | 28–48 msgs/s |
| Federation inbox hands each local account its items in one call | 125 msgs/s (400 msgs, one session, federated) | 307 msgs/s |
| Senders stream over a session to the hub (PROTOCOL §10 path 2), 32 awaiting the hub's ack, instead of one HTTP request each | — | federated 124 msgs/s, p50 319 ms (quick plan, loaded) |
| Outbox sends as soon as items are queued (was: on its alarm); hub keeps its meta and members in memory and hands fresh entries on without reading them back; Ed25519 and Content-Digest through workerd's WebCrypto (pure-JS verify ~3.8 ms, sign ~2.5 ms; WebCrypto ~0.6 ms); peers' documents reused for a minute per isolate; federation dedupe and account delivery in a few statements per batch | round trip p50 98 ms; federated 164 msgs/s, p50 230 ms; same domain 251 msgs/s (quick plan) | round trip p50 41 ms; federated 456 msgs/s, p50 87 ms; same domain 651 msgs/s |
| The benchmark runs wrangler dev without its local trace store (\`X_LOCAL_OBSERVABILITY=false\`: every Worker and Durable Object invocation was written to a SQLite trace store, a fifth of the server's CPU, and most of its disk writes); sockets without permessage-deflate (the Worker declines it; the bench's clients stop offering it to wrangler's proxy) | federated ~750 msgs/s, p50 7 s (lab run: 50 pairs × 200 on disk) | ~1,650–2,000 msgs/s, p50 3–3.6 s |
| Hub fan-out to a peer handed to the Outbox in memory and sent at once, one request in flight per peer, up to 2,000 items (was: each item written to SQLite, read back and deleted; 500 a request); hubs hold acks while more than 64 accepted entries wait for the fan-out; fanned position one number per hub; mailbox rows inserted 20 a statement; servers' SQLite on tmpfs | ~1,650–2,000 msgs/s (lab, disk); full run before all of this (c2a53db): 638 msgs/s, p99 13.3 s | ~2,700–3,400 msgs/s (lab, tmpfs); full run at 066e39a: 3,402 msgs/s, p99 1.41 s (Prosody 8,282, 0.94 s); same domain 4,251 msgs/s |
| The submitting device gets no echo of its own entry on its session (it has the ack, and its mailbox brings the entry); fan-out item ids from a per-conversation hashed prefix instead of a pure-JS SHA-256 per entry; the hub's safety alarm set 30 s ahead instead of 1 s | ~3,400–3,900 msgs/s (lab, tmpfs) | ~4,200–4,300 msgs/s, p99 ~0.95 s (lab, tmpfs); full run: 4,602 msgs/s, p99 1.00 s (Prosody 8,411, 0.82 s); same domain 6,661 msgs/s, p99 0.33 s (Prosody 16,879, 0.42 s) |

Where the time goes now: a federated message costs the hub's server ~150 µs of CPU and the
receiving server ~80 µs, and the benchmark's own clients and the kernel take the rest of the two
cores. The Outbox keeps one request per peer in flight, so the receiver applies one batch while
the sender prepares the next; the sending server is the slower side. Next levers: a second
request in flight, with a per-peer object at the receiver that applies batches in order (and
holds the peer's replay and dedupe state, off the server-wide object); the receiver's dedupe
record and mailbox insert folded into one write; the sender's own copy of each message written
only when the account has another device.`