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

Tried and not kept, each measured with 3–6 lab runs: handing a conversation's next fan-out
round over before the previous one was answered (p50 +50%); waking held acks after every
fan-out round rather than once the fan-out caught up (the hub's intake then competes with its
federation requests for its one thread, and every request waits longer); a 2 ms window in the
Outbox to gather more items; holding acks only past 128, 160 or 256 entries (p99 up); three
requests in flight; answering a federation batch before applying it (the receiver's apply is
not what the hub waits for); skipping the receiver's schema checks or its dedupe records (no
measurable change in its CPU).

Where the time goes now: a federated message costs the hub's server ~110 µs of CPU, the
receiving server ~65 µs and the benchmark's own clients ~60 µs; the kernel takes the rest of the
two cores. A federation request's round trip is mostly waiting in the event loops: a batch of
4 items took 118 ms from the hub's fetch to its answer, of which the receiver's handler ran
1 ms; the hub's one thread is busy with the intake of 50 sessions. Lab runs vary by ±15% from
one to the next on this VM, and whole runs more: the last three full runs, minutes apart on the
same code, gave Prosody 10,211, 5,553 and 5,790 federated msgs/s (the VM's load average, with
nothing else running, went from 1.8 to 2.0), and EMSG 6,464, 4,376 and 5,396.
Next levers: fewer events per message on the hub (acks for several submissions in one frame,
a session socket that is not woken per frame), and the same-domain path, where one account
call per hub round is the cost.`