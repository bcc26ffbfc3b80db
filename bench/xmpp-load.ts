// The Prosody half's clients: @xmpp/client users and the message links between them.
import { client, xml, type XmlElement, type XmppClient } from "@xmpp/client";
import type { Link } from "./load.js";
import { PASSWORD, type ProsodyHost } from "./prosody.js";

export interface XmppUser {
  jid: string;
  client: XmppClient;
  deliver: (i: number, from: string) => void;
}

/** Logs in as `username@host.domain` over plaintext c2s and announces presence, so messages reach it. */
export async function connectUser(host: ProsodyHost, username: string): Promise<XmppUser> {
  const xmpp = client({
    service: `xmpp://127.0.0.1:${host.c2sPort}`,
    domain: host.domain,
    username,
    password: PASSWORD,
    resource: "bench",
  });
  // A dropped connection must show up as lost messages, not be papered over by a silent reconnect.
  xmpp.reconnect.stop();
  const user: XmppUser = { jid: `${username}@${host.domain}`, client: xmpp, deliver: () => {} };
  xmpp.on("error", () => {});
  xmpp.on("stanza", (stanza: XmlElement) => {
    if (!stanza.is("message")) return;
    const body = stanza.getChildText("body");
    if (body !== null) user.deliver(Number.parseInt(body, 10), (stanza.attrs.from ?? "").split("/")[0]!);
  });
  await xmpp.start();
  // As the EMSG half's clients (undici, ws) do: no Nagle delay on small writes.
  xmpp.socket?.setNoDelay(true);
  await xmpp.send(xml("presence"));
  return user;
}

/** A message body of about `bytes` bytes that starts with its index, as the receiver reads it back. */
export function bodyText(i: number, bytes: number): string {
  const head = `${i} `;
  return head + "x".repeat(Math.max(0, bytes - head.length));
}

/** A link from `from` to `to`; its `count` stanzas are built before the clock starts. */
export function xmppLink(from: XmppUser, to: XmppUser, count: number, bytes: number): Link {
  const stanzas = Array.from({ length: count }, (_, i) =>
    xml("message", { to: to.jid, type: "chat", id: `b${i}` }, xml("body", {}, bodyText(i, bytes))),
  );
  return {
    send: (i) => from.client.send(stanzas[i]!),
    onDelivery(handler) {
      to.deliver = (i, sender) => {
        if (sender === from.jid) handler(i);
      };
    },
  };
}

export async function disconnectAll(users: readonly XmppUser[]): Promise<void> {
  await Promise.all(users.map((u) => u.client.stop().catch(() => undefined)));
}
