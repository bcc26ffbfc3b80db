/** EMSG's MLS layer (PROTOCOL §4, §8): every conversation is one MLS group over all members' devices. */
export { CIPHERSUITE_ID, CIPHERSUITE_NAME } from "./suite.js";
export type { DeviceIdentity } from "./device.js";
export { KEY_PACKAGE_LIFETIME_MS, type KeyPackageBundle, makeKeyPackages } from "./keypackage.js";
export { inspectKeyPackage, inspectMessage, type MessageInfo } from "./inspect.js";
export { type GroupState, epochOf, groupIdOf, isActive, membersOf, verifyMembers } from "./group-state.js";
export { addMembers, createGroup, MAX_ADDS_PER_COMMIT, encrypt, joinFromWelcome, refreshKeys, removeMembers } from "./group.js";
export { type Processed, processMessage } from "./receive.js";
export { decodeGroupState, encodeGroupState } from "./state-codec.js";
