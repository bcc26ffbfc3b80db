import type { HttpRequest, HttpResponse, SocketLike, Transport } from "../../shared/client/transport.js";
import { readAtMost } from "../../shared/client/bounded-body.js";

/**
 * The client core's Transport in the extension's service worker: its `fetch` and `WebSocket`.
 * The service worker may reach the user's server because the extension's host access
 * (the content scripts' http/https patterns) covers it; no server needs CORS for this.
 */
export const fetchTransport: Transport = {
  async fetch(url: string, request: HttpRequest): Promise<HttpResponse> {
    const response = await fetch(url, { method: request.method, headers: request.headers, body: request.bytes ?? request.body, cache: "no-store", credentials: "omit" });
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
    socket.onerror = () => like.onerror?.(new Error("WebSocket error"));
    return like;
  },
};
