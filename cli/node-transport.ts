import WebSocket from "ws";
import type { HttpRequest, HttpResponse, SocketLike, Transport } from "../shared/client/transport.js";
import { readAtMost } from "../shared/client/bounded-body.js";

/**
 * The client core's Transport in Node 20: global fetch, and the `ws` package for sockets, which
 * offer permessage-deflate unless `compress` is false.
 */
export function nodeTransportWith({ compress }: { compress: boolean }): Transport {
  return {
    async fetch(url: string, request: HttpRequest): Promise<HttpResponse> {
      const res = await fetch(url, { method: request.method, headers: request.headers, body: request.bytes ?? request.body });
      return { status: res.status, text: () => res.text(), bytes: (max) => readAtMost(res.body, max) };
    },
    openSocket(url: string): SocketLike {
      const ws = new WebSocket(url, { perMessageDeflate: compress });
      const socket: SocketLike = {
        send: (data) => ws.send(data),
        close: (code, reason) => ws.close(code, reason),
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
      };
      ws.on("open", () => socket.onopen?.());
      ws.on("message", (data) => socket.onmessage?.(data.toString()));
      ws.on("close", (code) => socket.onclose?.(code));
      ws.on("error", (error) => socket.onerror?.(error));
      return socket;
    },
  };
}

export const nodeTransport: Transport = nodeTransportWith({ compress: true });
