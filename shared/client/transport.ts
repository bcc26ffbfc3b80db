/**
 * How the client core reaches servers. Browsers pass their global `fetch` and `WebSocket`;
 * Node passes global `fetch` and the `ws` package (cli/node-transport.ts).
 */
export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** A body of bytes instead of text: an attachment's part (PROTOCOL §15.3). */
  bytes?: Uint8Array<ArrayBuffer>;
}

export interface HttpResponse {
  status: number;
  text(): Promise<string>;
  /** The body as bytes, at most `max` of them (readAtMost: the rest is cancelled unread); needed for attachments only. */
  bytes?(max: number): Promise<Uint8Array>;
}

/** The few WebSocket members the core uses; a browser WebSocket already fits. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((data: string) => void) | null;
  onclose: ((code: number) => void) | null;
  onerror: ((error: unknown) => void) | null;
}

export interface Transport {
  fetch(url: string, request: HttpRequest): Promise<HttpResponse>;
  openSocket(url: string): SocketLike;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
