/** Every EMSG wire body as a valibot schema with its inferred type. */
export * from "./common.js";
export * from "./account.js";
export * from "./friends.js";
export * from "./conversation.js";
export * from "./mail.js";
export * from "./federation.js";
export * from "./fed-stream.js";
export * from "./frames.js";
export * from "./blobs.js";
