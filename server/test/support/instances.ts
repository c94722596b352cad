import { remoteChangeBoundMs } from "../../src/db/bus/change-bus.js";
import { dataVersionRecheckMs } from "../../src/db/sqlite/read-cache.js";
import type { TestDialect } from "./dialects.js";

/**
 * Waits out the time in which another instance may still serve what it cached before a change:
 * SQLite's `data_version` recheck on a file, the change bus's bound on PostgreSQL and MySQL
 * (README "Several instances"). The instance that made the change needs no wait.
 */
export function otherInstanceWindow(dialect: TestDialect): Promise<void> {
  const ms = dialect.name === "sqlite" ? dataVersionRecheckMs : remoteChangeBoundMs;
  return new Promise((resolve) => setTimeout(resolve, ms + 1));
}
