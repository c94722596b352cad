import { createRequire } from "node:module";
import type * as PinoPrettyModule from "pino-pretty";
import { pino, stdSerializers, type DestinationStream, type Logger } from "pino";

/**
 * Log fields that may hold a secret. Request logging (plugins/request-log.ts) writes no headers or
 * bodies; these catch anything else that passes one on.
 */
const redactPaths = [
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "*.password",
  "*.code",
  "*.token",
  "*.refresh_token",
];

/**
 * Errors without the statement that failed: a database driver's error carries its SQL text and
 * values (mysql2 inlines them into `sql`), which may be password hashes, token hashes or secrets.
 * `type` is the error's own name where it has one: the bundled server's class names are minified.
 */
export function errorWithoutStatement(error: Error): Record<string, unknown> {
  const {
    sql: _sql,
    sqlMessage: _sqlMessage,
    parameters: _parameters,
    ...rest
  } = stdSerializers.err(error) as unknown as Record<string, unknown>;
  return typeof error.name === "string" && error.name !== "Error" ? { ...rest, type: error.name } : rest;
}

/**
 * The app's logger: JSON lines to stdout (or `destination`), secret fields redacted. `pretty` writes
 * readable lines instead (main.ts: a terminal outside production); JSON stays the format whenever the
 * output goes to a file, a pipe or a log collector. Tests turn `redact` off to show that no secret is
 * logged in the first place.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  { redact = true, pretty = false }: { redact?: boolean; pretty?: boolean } = {},
): Logger {
  const options = {
    level,
    ...(redact ? { redact: { paths: redactPaths, censor: "[redacted]" } } : {}),
    serializers: { err: errorWithoutStatement },
  };
  if (pretty) {
    // pino-pretty loads only for a terminal: production and piped output never hold it.
    const { PinoPretty } = createRequire(import.meta.url)("pino-pretty") as typeof PinoPrettyModule;
    const stream = PinoPretty({
      colorize: true,
      translateTime: "SYS:HH:MM:ss",
      ignore: "pid,hostname",
      ...(destination === undefined ? {} : { destination }),
    });
    return pino(options, stream);
  }
  return destination === undefined ? pino(options) : pino(options, destination);
}
