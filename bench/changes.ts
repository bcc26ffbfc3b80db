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
| An account's only device gets no mailbox copy of an application message it submitted to the hub itself (it has the hub's answer; PROTOCOL §6) | ~4,200–4,700 msgs/s; hub ~145 µs of CPU a message (lab, wrangler dev) | ~4,500–5,300 msgs/s; hub ~120 µs |
| The benchmark runs each domain as one workerd through Miniflare (the library wrangler dev is built on), without wrangler dev's reloading proxy, which re-fetched every request and piped every WebSocket frame through a second workerd (~25 µs of CPU a message, a hop each way); hubs hold acks past 96 entries waiting for the fan-out, not 64; a hub's fan-out may have two requests in flight per peer (one conversation's items never in two at once) | ~4,500–5,300 msgs/s (lab, wrangler dev); full run: 4,602 msgs/s, round trip p50 20.5 ms, 4,735 idle sockets | lab medians ~5,500 (Miniflare) → ~6,100 (96) → ~7,000 (two requests); three full runs within 40 minutes: 6,464 / 4,376 / 5,396 msgs/s, p99 0.91 / 1.38 / 1.04 s, against Prosody's 10,211 / 5,553 / 5,790 msgs/s, p99 0.70 / 1.33 / 1.47 s (0.63× / 0.79× / 0.93×); same domain 8,059 / 6,737 / 8,508 msgs/s; round trip p50 9.4–14.8 ms; 9,471 idle sockets, ~63 KiB each |
| Bursts on a session: what a client submits within one turn goes as one \`submits\` frame, answered by one \`acks\` frame (PROTOCOL §10), so a hub takes one event per burst, not one per message; request bodies of declared length read whole by the runtime (reading them chunk by chunk from JS took a turn of the event loop per chunk, most of the receiver's work on a federation batch); hubs hold acks past 144 entries, not 96; a hub's run of entries, and a batch's federation dedupe records, written by one statement each (\`json_each\` of one bound array: ~11 µs a log row instead of 17–26, ~3 µs a dedupe record instead of ~6) | lab, start of the session: 5,000–6,400 msgs/s (median ~5,700), p99 0.92–1.11 s; hub ~125 µs and receiver ~80 µs of CPU a message | lab medians ~6,000 (bursts) → ~6,850 (bodies) → ~8,000 (144) → ~8,200–8,400 (statements), p99 ~0.85–0.95 s; hub ~65–90 µs, receiver ~55–65 µs; three full runs this session, one after each group of steps: 5,843 / 7,543 / 8,239 msgs/s, p99 1.03 / 1.04 / 0.90 s, against Prosody's 7,114 / 7,690 / 10,028 msgs/s, p99 1.08 / 0.94 / 0.70 s (0.82× / 0.98× / 0.82×); same domain 8,700 / 9,948 / 12,520 msgs/s against 13,106 / 12,592 / 12,456 (1.01× in the last); mailbox drain 60,670 msgs/s (was 33,193) |

Tried and not kept, each measured with 3–6 lab runs: handing a conversation's next fan-out
round over before the previous one was answered (p50 +50%); a 2 ms window in the Outbox to
gather more items; holding acks only past 192 or 256 entries (a little more throughput, p99
+25%); three requests in flight, or four or six of at most 500 or 256 items (median 6,400
against 6,850: every request has its own costs on both sides); a second request only once 256
items wait (no difference); waking held acks after every fan-out round, or once the backlog
falls under the mark (three interleaved pairs of runs: medians 8,150 against 8,365, no
difference); answering a federation batch before applying it (+10% in an experiment: the
receiver's apply is not most of what the hub waits for); skipping the receiver's schema checks
or its dedupe records (no measurable change); the mailbox's 20-row inserts as one \`json_each\`
statement (slower: its rows are JSON text, escaped twice).

Where the time goes now: a federated message costs the hub's server ~65–90 µs of CPU, the
receiving server ~55–65 µs and the benchmark's own clients ~30–50 µs. Neither server's one
thread is saturated (~65% and ~50% of a core during a run): they take turns more than they
overlap. A federation request of a few hundred to 2,000 items took 130–420 ms from the hub's
fetch to the answer even when the receiver answered before applying it, and the receiver's
handler often started only once its previous batch was applied: each event loop runs in bursts,
and a body of a megabyte or more crosses the socket a buffer at a time between them. Lab runs
vary by ±15% from one to the next on this VM, and whole runs more (Prosody's federated figure
went from 5,553 to 10,211 msgs/s between full runs minutes apart on the same code).
Next levers: fewer calls per incoming batch to the one Server object (replay and rate check,
dedupe lookup, dedupe record, all on the answer's path), no call per fan-out round to the
author's own account when it has one device, and a federation transport whose batches are not
held up between those bursts.`