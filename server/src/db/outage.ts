/*
 * Telling apart the database failures that are nobody's fault and pass: the database unreachable
 * (answered 503 `unavailable`, SPEC "Staying up") and a transaction chosen as a deadlock or
 * serialization victim (run again). Everything else is a bug and stays a 500.
 */

/** Socket-level failures: the database host refuses, resets, or does not answer. */
const networkCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01-57P03 (the server shutting down or
 * starting, a backend terminated by an administrator), 53300 (too many connections).
 * MySQL (mysql2's `code`): the connection lost or refused, the server shutting down, too many connections.
 * SQLite: the file stayed locked by another process past `busy_timeout`.
 */
const serverCodes = new Set([
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  "57P01",
  "57P02",
  "57P03",
  "53300",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "SQLITE_BUSY",
]);
/** node-postgres reports a dead or unreachable connection with these messages and no code. */
const pgMessages = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error and is not queryable",
  "Query read timeout",
  "Connection terminated due to connection timeout",
];
/** PostgreSQL refusing new connections to a database (ALLOW_CONNECTIONS false, 55000 in general means more). */
const pgRefusals = ["is not currently accepting connections"];

function fieldOf(error: unknown, field: string): unknown {
  return typeof error === "object" && error !== null && field in error
    ? (error as Record<string, unknown>)[field]
    : undefined;
}

/** True when `error` says the database cannot be reached right now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = fieldOf(error, "code");
  if (typeof code === "string" && (networkCodes.has(code) || serverCodes.has(code))) return true;
  // mysql2 marks every error that killed its connection as fatal.
  if (fieldOf(error, "fatal") === true) return true;
  const message = error instanceof Error ? error.message : "";
  if (pgMessages.some((text) => message.startsWith(text))) return true;
  if (pgRefusals.some((text) => message.includes(text))) return true;
  // mysql2: a query handed to a connection that has just died.
  if (message.includes("connection is in closed state")) return true;
  // AggregateError (Node's happy eyeballs: every address refused) and wrapped causes.
  const errors = fieldOf(error, "errors");
  if (Array.isArray(errors) && errors.length > 0 && errors.every(isDatabaseUnavailable)) return true;
  const cause = fieldOf(error, "cause");
  return cause !== undefined && cause !== error && isDatabaseUnavailable(cause);
}

/**
 * True when the database rolled the transaction back to break a deadlock or a serialization conflict,
 * so running it again may succeed: PostgreSQL 40001/40P01, MySQL 1213 (deadlock) and 1205 (lock wait timeout).
 */
export function isRetryableConflict(error: unknown): boolean {
  const code = fieldOf(error, "code");
  const errno = fieldOf(error, "errno");
  return (
    code === "40001" ||
    code === "40P01" ||
    code === "ER_LOCK_DEADLOCK" ||
    code === "ER_LOCK_WAIT_TIMEOUT" ||
    errno === 1213 ||
    errno === 1205
  );
}

/** Tries of a transaction that loses a deadlock or serialization conflict, the first included. */
export const conflictAttempts = 4;

/**
 * Runs `transaction` again (up to `conflictAttempts` in all) when the database aborted it as a deadlock
 * or serialization victim, after a random 5-50 ms times the try number, so the two sides of a deadlock
 * do not meet again in step. `onRetry` hears of each retry (logged and counted by the caller).
 */
export async function retryingConflicts<T>(
  transaction: () => Promise<T>,
  onRetry?: (error: unknown) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= conflictAttempts || !isRetryableConflict(error)) throw error;
      onRetry?.(error);
      const delayInMs = attempt * (5 + Math.random() * 45);
      await new Promise((resolve) => setTimeout(resolve, delayInMs));
    }
  }
}
