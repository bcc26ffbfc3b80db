/** The EMSG client core: one account on one device, behind Store and Transport interfaces. */
export { EmsgClient, type ClientOptions } from "./client.js";
export type { ClientEvents, UploadProgress } from "./context.js";
export type { AccountRecord } from "./account-record.js";
export type { AccountStanding, Friend } from "./friends.js";
export type { ImportProgress, ImportResult, MoveStatus } from "./account-move.js";
export type { DeviceInfo, DeviceLinkOffer } from "./device-link.js";
export type { ConversationKind, ConversationSummary } from "./conversation-record.js";
export type { GroupNotice, MessageRecord, MessageStatus } from "./messages.js";
export { GROUP_MAX_MEMBERS } from "./groups.js";
export { MemoryStore, namespaced, type Store } from "./store.js";
export { systemClock, type Clock, type HttpRequest, type HttpResponse, type SocketLike, type Transport } from "./transport.js";
export type { MessagePath } from "./live-paths.js";
export type { IceCandidate, PeerChannel, PeerConnector } from "./peer-channel.js";
