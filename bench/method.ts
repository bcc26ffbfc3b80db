import { SESSION_WINDOW } from "./emsg-half.js";

/** The closing section of BENCHMARKS.md: how every figure above is taken, so a reader can judge it. */
export const METHOD = `## How these figures are taken

- **One process drives everything.** Senders and receivers of both servers live in the benchmark's
  Node process, so every latency is measured on one clock: from just before a sender hands message
  *i* to its server until the receiver's socket handler sees it. A pass's rate is messages
  delivered divided by the time from the first send to the last delivery. A message not delivered
  15 s after the last one arrived counts as lost. That process runs with a 64 MB young generation
  (\`node --max-semi-space-size=64\`, in \`npm run bench\`): with Node's default its scavenges were 18%
  of its profile in a federated pass, and the clients' CPU is taken from the same two cores as the
  servers'. Both servers' clients live in it, so both get the same.
- **Same workload for both, at the same moments.** Both servers are started and their clients
  logged in before either is measured. In each throughput scenario, each server first gets one
  message per pair (not timed, so server-to-server connections exist) and eight untimed passes of the
  full load (its JIT, caches and heaps warm up, as in a server that has been running; the first one's
  rate is listed as "first pass after start"). A domain's workerd thread still got cheaper a message
  until about its eighth pass in a row (federated 34 → ~25 µs on the sending thread, same domain
  41 → ~25), workerd's JIT still optimizing what a pass runs only a few hundred times; with two, the
  timed passes fell in that climb. Then come the timed passes, the two servers taking turns,
  the order reversed every round (EMSG, Prosody; Prosody, EMSG; …), so a slow moment of this
  shared VM falls on both: its speed was seen to swing by a third within minutes, and Prosody's own
  single-pass figure moved from 7,114 to 10,028 msgs/s between two runs an hour apart. Delivered
  msgs/s is the median timed pass; latency percentiles are over every message of the timed passes;
  losses count every pass, untimed ones too. In a pass every sender sends its messages as fast as
  its server takes them while receivers count. Texts are ~200 bytes. The single-pair round trip
  takes turns the same way: after one untimed turn each, turns of a fifth of its trips, the order
  reversed every round; its percentiles are over every timed trip (run in one go after the
  throughput scenarios, Prosody's p50 moved from 0.51 to 0.66 ms between two runs of one afternoon).
- **EMSG**: two domains (\`im.alice.test\` on 8827, \`im.bob.test\` on 8828) started by
  \`scripts/workerd-servers.mjs\`: each domain is one workerd process running the Worker through
  Miniflare (the library \`wrangler dev\` is built on), bundled as \`wrangler deploy --dry-run\` bundles
  it and configured from \`wrangler.toml\` (compatibility date and flags, SQLite Durable Objects),
  serving it straight on the domain's port. \`wrangler dev\` would put a second, reloading proxy
  workerd in front that re-fetches every request and pipes every WebSocket frame; a deployment has no
  such proxy, so the benchmark runs without it (and without wrangler's local trace store). The
  Worker's outbound fetches may reach loopback addresses only. Storage is in a temporary directory on tmpfs
  (\`/dev/shm\`): every message is still written to SQLite at the hub and in the receiver's mailbox
  before it counts as delivered, but this VM's disk is not measured (on it, the kernel's writeback
  of those pages took most of a core; Prosody keeps nothing on disk in this workload). Accounts, friendships and 1:1 conversations are set up through the client core
  (\`shared/client\`). In the timed loop each text is already an MLS application message (ciphersuite
  \`MLS_256_XWING_CHACHA20POLY1305_SHA512_Ed25519\`), encrypted before the clock starts; each sender holds a
  session (PROTOCOL §10, path 2: a ticket signed by its own server, then a WebSocket straight to the
  hub, which is the first sender's server) and streams its submissions over it, up to ${SESSION_WINDOW} awaiting
  the hub's \`ack\` (the client core's OUTGOING_WINDOW), as a client with the conversation on screen does; the hub orders it and fans it out (across domains as a signed federation request); receivers get it
  on their mailbox WebSocket and acknowledge every frame. Clients do not offer permessage-deflate
  (the Worker declines it: \`no_web_socket_compression\`). Receivers recognise a message by its
  ciphertext and do not decrypt in the timed loop (the MLS cost is its own row). The servers' rate
  limits are raised for the run (\`EMSG_RATE\`), as Prosody runs without \`mod_limits\`.
- **Prosody**: Debian's \`prosody\` package, two processes (\`a.bench.test\`, \`b.bench.test\`), each
  with a config written by \`bench/prosody.ts\` into a temporary directory: c2s on a free port of
  127.0.0.1 without TLS (\`c2s_require_encryption = false\`, \`allow_unencrypted_plain_auth = true\`,
  \`authentication = "internal_plain"\`), real server-to-server federation with dialback over
  loopback (s2s on 127.0.0.1:5269 and 127.0.0.2:5269, names resolved through a hosts file given to
  Prosody's resolver), Nagle's algorithm off (Prosody's default leaves it on, which adds ~40 ms per
  s2s hop on loopback), users created through \`prosodyctl shell\`. Clients are \`@xmpp/client\` (Nagle
  off on their sockets too, as undici and ws have it for EMSG); each message is a plaintext
  \`<message type="chat">\` whose body starts with its index (no OMEMO: Prosody carries ~200 bytes
  where EMSG carries a signed request with an MLS ciphertext); sending is limited only by the socket
  (XMPP has no per-message acceptance without stream management).
- **Neither side uses TLS**; both run over loopback on one shared machine, so figures are for
  comparing the two, not for predicting a deployment.
- **Idle WebSockets**: mailbox sockets opened (each with its own single-use ticket) to one domain's
  workerd, spread over accounts with empty mailboxes, counted 3 s after the last opened; memory is
  the VmRSS of both domains' workerd processes from /proc. workerd holds two file descriptors per
  WebSocket (each connection's socket twice), so its open-file limit (20,000 here, which root cannot
  raise in this sandbox) caps the count just under 10,000; opening stops 1,000 descriptors short of
  it (near 9,500), as past it the runtime crashes and drops every socket. **Mailbox drain**: messages queued for an offline account, then
  the clock runs from its reconnect (ticket request) until every one arrived over its socket and was
  acknowledged.
- Source: \`bench/\`. Unit tests of the statistics and the report: \`tests/unit/bench-*.test.ts\`.
`;
