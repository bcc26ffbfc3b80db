import type { HttpRequest, HttpResponse, SocketLike, Transport } from "../../../shared/client/transport.js";
import { readAtMost } from "../../../shared/client/bounded-body.js";

/** The client core's Transport on the browser's own fetch and WebSocket. */
export const browserTransport: Transport = {
  async fetch(url: string, request: HttpRequest): Promise<HttpResponse> {
    const response = await fetch(url, { method: request.method, headers: request.headers, body: request.bytes ?? request.body, cache: "no-store" });
    return { status: response.status, text: () => response.text(), bytes: (max) => readAtMost(response.body, max) };
  },

  openSocket(url: string): SocketLike {
    const socket = new WebSocket(url.replace(/^http/, "ws"));
    const like: SocketLike = {
      send: (data) => socket.send(data),
      close: (code, reason) => socket.close(code, reason),
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
    };
    socket.onopen = () => like.onopen?.();
    socket.onmessage = (event) => {
      if (typeof event.data === "string") like.onmessage?.(event.data);
    };
    socket.onclose = (event) => like.onclose?.(event.code);
    socket.onerror = (event) => like.onerror?.(event);
    return like;
  },
};
