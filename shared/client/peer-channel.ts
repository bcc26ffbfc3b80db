/**
 * A WebRTC data channel to one device of a peer (PROTOCOL §10, path 3), behind an interface the
 * platform provides: the PWA wraps the browser's RTCPeerConnection (pwa/src/platform/browser-peer.ts);
 * Node has none, so the CLI stays on paths 1 and 2. One PeerChannel is one peer connection with
 * one ordered, reliable data channel; ICE candidates trickle through `onCandidate`/`addCandidate`.
 */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

export interface PeerChannel {
  /** The offering side: makes the offer and returns its SDP. */
  offer(): Promise<string>;
  /** The answering side: takes the offer's SDP and returns the answer's. */
  answer(offer: string): Promise<string>;
  /** The offering side: takes the answer's SDP. */
  accept(answer: string): Promise<void>;
  /** A candidate of the other side; one that arrives before its description is kept until then. */
  addCandidate(candidate: IceCandidate): Promise<void>;
  send(data: string): void;
  close(): void;
  onCandidate: ((candidate: IceCandidate) => void) | null;
  /** The data channel is open: messages can flow. */
  onOpen: (() => void) | null;
  onMessage: ((data: string) => void) | null;
  /** The channel closed or the connection failed; called at most once, never after `close()`. */
  onClose: (() => void) | null;
}

export interface PeerConnector {
  connect(): PeerChannel;
}
