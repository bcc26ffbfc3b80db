/** The client core types the view models work with; the core itself lives in shared/client. */
export type { EmsgClient } from "../../shared/client/client.js";
export type { ClientEvents, ConversationSummary, DeviceInfo, DeviceLinkOffer, Friend, MessagePath, MessageRecord } from "../../shared/client/index.js";
export type { Settings as AccountSettings } from "../../shared/wire/account.js";
export type { ImportProgress, ImportResult } from "../../shared/client/index.js";
export type { GroupNotice } from "../../shared/client/index.js";
