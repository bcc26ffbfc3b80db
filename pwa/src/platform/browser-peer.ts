import type { IceCandidate, PeerChannel, PeerConnector } from "../../../shared/client/peer-channel.js";

/**
 * ICE servers for direct channels (PROTOCOL §10, path 3), from the build's `VITE_EMSG_ICE_SERVERS`
 * (JSON, RTCIceServer[]): a deployment adds its STUN/TURN servers there. Without any, only host
 * candidates are gathered, which is enough between two browsers on one network.
 */
export function iceServersFrom(config: string | undefined): RTCIceServer[] {
  if (!config) return [];
  try {
    const parsed: unknown = JSON.parse(config);
    return Array.isArray(parsed) ? (parsed as RTCIceServer[]) : [];
  } catch {
    console.warn("emsg: VITE_EMSG_ICE_SERVERS is not a JSON array; direct channels use host candidates only");
    return [];
  }
}

/** The client core's PeerConnector on the browser's RTCPeerConnection; none where WebRTC is missing. */
export function browserPeers(iceServers: RTCIceServer[]): PeerConnector | undefined {
  if (typeof RTCPeerConnection === "undefined") return undefined;
  return { connect: () => new BrowserPeerChannel(iceServers) };
}

class BrowserPeerChannel implements PeerChannel {
  onCandidate: ((candidate: IceCandidate) => void) | null = null;
  onOpen: (() => void) | null = null;
  onMessage: ((data: string) => void) | null = null;
  onClose: (() => void) | null = null;
  readonly #pc: RTCPeerConnection;
  #channel: RTCDataChannel | undefined;
  #closed = false;
  // The browser refuses candidates before the remote description: they wait for it.
  readonly #remote: Promise<void>;
  #remoteSet!: () => void;

  constructor(iceServers: RTCIceServer[]) {
    this.#pc = new RTCPeerConnection({ iceServers });
    this.#remote = new Promise((resolve) => (this.#remoteSet = resolve));
    this.#pc.onicecandidate = ({ candidate }) => {
      if (candidate?.candidate) this.onCandidate?.({ candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex });
    };
    this.#pc.onconnectionstatechange = () => {
      if (this.#pc.connectionState === "failed" || this.#pc.connectionState === "closed") this.#ended();
    };
    this.#pc.ondatachannel = ({ channel }) => this.#adopt(channel);
  }

  async offer(): Promise<string> {
    this.#adopt(this.#pc.createDataChannel("emsg", { ordered: true }));
    // The description as made, before gathering: candidates follow one by one (trickle ICE).
    const offer = await this.#pc.createOffer();
    await this.#pc.setLocalDescription(offer);
    return offer.sdp!;
  }

  async answer(offer: string): Promise<string> {
    await this.#pc.setRemoteDescription({ type: "offer", sdp: offer });
    this.#remoteSet();
    const answer = await this.#pc.createAnswer();
    await this.#pc.setLocalDescription(answer);
    return answer.sdp!;
  }

  async accept(answer: string): Promise<void> {
    await this.#pc.setRemoteDescription({ type: "answer", sdp: answer });
    this.#remoteSet();
  }

  async addCandidate(candidate: IceCandidate): Promise<void> {
    await this.#remote;
    if (!this.#closed) await this.#pc.addIceCandidate(candidate);
  }

  send(data: string): void {
    if (this.#channel?.readyState !== "open") throw new Error("The direct channel is not open.");
    this.#channel.send(data);
  }

  close(): void {
    this.#closed = true;
    this.#channel?.close();
    this.#pc.close();
  }

  #adopt(channel: RTCDataChannel): void {
    this.#channel = channel;
    channel.onopen = () => this.onOpen?.();
    channel.onmessage = ({ data }) => {
      if (typeof data === "string") this.onMessage?.(data);
    };
    channel.onclose = () => this.#ended();
  }

  #ended(): void {
    if (this.#closed) return;
    this.close();
    this.onClose?.();
  }
}
