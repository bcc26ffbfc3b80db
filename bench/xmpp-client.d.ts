// @xmpp/client ships no types; these are the few members the Prosody half of the benchmark uses.
declare module "@xmpp/client" {
  import type { EventEmitter } from "node:events";

  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    is(name: string, xmlns?: string): boolean;
    getChildText(name: string): string | null;
  }

  export interface XmppClient extends EventEmitter {
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: XmlElement): Promise<void>;
    reconnect: { stop(): void };
    /** The connection's net.Socket once connected over TCP. */
    socket?: { setNoDelay(noDelay?: boolean): void };
  }

  export function client(options: {
    service: string;
    domain: string;
    username: string;
    password: string;
    resource?: string;
  }): XmppClient;

  export function xml(
    name: string,
    attrs?: Record<string, string>,
    ...children: Array<XmlElement | string>
  ): XmlElement;
}
