import type { FastifyError, FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { isDatabaseUnavailable } from "../db/outage.js";
import { AppError, BearerError, errorBody, type BearerChallenge, type ErrorDetail } from "../errors.js";

/** RFC 6750 §3: every 401 names the scheme and realm; a challenge adds its error, description and max_age. */
export function wwwAuthenticate(challenge?: BearerChallenge): string {
  if (challenge === undefined) return 'Bearer realm="tessera"';
  const maxAge = challenge.maxAge === undefined ? "" : `, max_age="${challenge.maxAge}"`;
  return `Bearer realm="tessera", error="${challenge.error}", error_description="${challenge.description}"${maxAge}`;
}

/** One place turns every failure into `{ error: { code, message } }`; 5xx never echo internals (STYLE S7). */
export function installErrorHandler(
  app: FastifyInstance,
  log: Logger,
  /** Hears of each request answered 503 because the database is unreachable (logged and counted by the caller). */
  onDatabaseUnavailable: (error: unknown) => void = () => undefined,
): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error.statusCode === 401) {
      void reply.header(
        "WWW-Authenticate",
        wwwAuthenticate(error instanceof BearerError ? error.challenge : undefined),
      );
    }
    if (error instanceof AppError) {
      if (error.retryAfterSeconds !== undefined) void reply.header("Retry-After", String(error.retryAfterSeconds));
      if (error.statusCode >= 500) log.error({ reqId: request.id, err: error }, "request failed");
      return reply.code(error.statusCode).send(errorBody(error.code, error.message, error.details));
    }
    if (error.validation !== undefined) {
      const details: ErrorDetail[] = error.validation.map((issue) => ({
        field: fieldOf(issue.instancePath, issue.params),
        message: issue.message ?? "is not valid",
      }));
      const context = error.validationContext ?? "body";
      return reply
        .code(422)
        .send(
          errorBody(
            "validation_failed",
            `The request ${context} is not valid: ${details.map((d) => `${d.field} ${d.message}`).join("; ")}.`,
            details,
          ),
        );
    }
    switch (error.code) {
      case "FST_ERR_CTP_INVALID_JSON_BODY":
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
      case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
        return reply.code(422).send(errorBody("validation_failed", "The request body is not valid JSON."));
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return reply.code(413).send(errorBody("payload_too_large"));
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      case "FST_ERR_CTP_INVALID_TYPE":
        return reply.code(415).send(errorBody("unsupported_media_type"));
      default:
        break;
    }
    if (error.statusCode === 429) {
      return reply.code(429).send(errorBody("rate_limited"));
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply
        .code(error.statusCode)
        .send(errorBody(error.statusCode === 404 ? "not_found" : "validation_failed", "The request is not valid."));
    }
    if (isDatabaseUnavailable(error)) {
      // The database is down or its connections were cut: a passing state, not a bug (SPEC "Staying up").
      onDatabaseUnavailable(error);
      void reply.header("Retry-After", "5");
      return reply.code(503).send(errorBody("unavailable"));
    }
    log.error({ reqId: request.id, err: error }, "unhandled error");
    return reply.code(500).send(errorBody("internal_error"));
  });
}

function fieldOf(instancePath: string, params: Record<string, unknown>): string {
  const missing = params["missingProperty"];
  const base = instancePath.replace(/^\//, "").replaceAll("/", ".");
  if (typeof missing === "string") return base === "" ? missing : `${base}.${missing}`;
  return base === "" ? "(root)" : base;
}
