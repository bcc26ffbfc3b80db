import type { Rollup } from "vite";

/**
 * The post-quantum KEM packages keep `@__PURE__` marks in commented-out lines: dozens of
 * harmless build warnings that would bury real ones. Everything else is passed on.
 */
export const quietDependencyLogs: Rollup.LogHandlerWithDefault = (level, log, handler) => {
  if (log.code === "INVALID_ANNOTATION" && log.id?.includes("/node_modules/")) return;
  handler(level, log);
};
