import type { Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyHttpOptions, FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { HttpLimits } from "../config.js";
import { errorBody, errorCodes, type ErrorCode } from "../errors.js";

/**
 * Requests one keep-alive connection may carry: no limit (0). A reverse proxy sends all its traffic,
 * forward-auth checks included, through a few long-lived connections; a cap would have Node close them
 * or answer 503 to requests already sent. What one client may hold is bounded by the idle keep-alive
 * timeout, the header and request deadlines and the per-address connection cap instead.
 */
const maxRequestsPerSocket = 0;
/** How often Node looks for connections past their header or request deadline (its default is 30 s). */
const deadlineCheckIntervalMs = 1000;

/**
 * A raw HTTP/1.1 error response in the SPEC's shape, for the HTTP layer's own errors: they happen before
 * (or outside) any Fastify request, so none of its hooks or handlers can answer them.
 */
export function rawErrorResponse(code: ErrorCode, message: string, extraHeaders: string[] = []): string {
  const status = errorCodes[code];
  const body = JSON.stringify(errorBody(code, message));
  return [
    `HTTP/1.1 ${status} ${statusText[status] ?? "Error"}`,
    "Content-Type: application/json; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Cache-Control: no-store",
    "X-Content-Type-Options: nosniff",
    ...extraHeaders,
    "Connection: close",
    "",
    body,
  ].join("\r\n");
}

const statusText: Record<number, string> = {
  408: "Request Timeout",
  413: "Payload Too Large",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
};

/** Node's parser and timer errors, each with our code and a message that names what was wrong. */
function describeClientError(errorCode: string | undefined): [ErrorCode, string] {
  switch (errorCode) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return ["request_timeout", "The request did not arrive in time."];
    case "HPE_HEADER_OVERFLOW":
      return ["headers_too_large", "The request headers are too large."];
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return ["payload_too_large", "The chunk extensions are too large."];
    case "HPE_INVALID_CONTENT_LENGTH":
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return ["validation_failed", "The Content-Length header is not valid."];
    case "HPE_INVALID_CHUNK_SIZE":
    case "HPE_INVALID_TRANSFER_ENCODING":
      return ["validation_failed", "The chunked body encoding is not valid."];
    case "HPE_INVALID_URL":
      return ["validation_failed", "The request URL is not valid."];
    default:
      return ["validation_failed", "The request is not valid HTTP."];
  }
}

/**
 * Node's `clientError`: a request Node itself refused (bad framing, headers too large, too slow). Answers
 * in the error shape while a response can still be written — nothing of one was sent on this socket
 * yet — then closes the connection, as Node's own handler would.
 */
function onClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  // Node keeps the response in flight on the socket as `_httpMessage` (its own clientError handling reads
  // it the same way); it is not in the typings.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && inFlight?.headersSent !== true) {
    const [code, message] = describeClientError(error.code);
    socket.write(rawErrorResponse(code, message));
  }
  socket.destroy();
}

/** Fastify options that bound how long a client may take and how long an idle connection stays. */
export function httpServerOptions(limits: HttpLimits): FastifyHttpOptions<Server> {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket,
    // A socket with no traffic either way for this long is dropped, whatever state it is in.
    connectionTimeout: limits.requestTimeoutMs * 2,
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: deadlineCheckIntervalMs },
    clientErrorHandler: onClientError,
  };
}

/**
 * At most `maxConnectionsPerIp` open connections per remote address: one more is told so (429 in the
 * error shape) and closed before it is read, so one client cannot take every connection the server has.
 * Also answers `Expect:` values other than 100-continue in the error shape (Node's own 417 has no body).
 */
export function installHttpLimits(app: FastifyInstance, limits: HttpLimits, log: Logger): void {
  const open = new Map<string, number>();
  let warnedAt = 0;
  app.server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "unknown";
    const count = open.get(address) ?? 0;
    if (count >= limits.maxConnectionsPerIp) {
      if (Date.now() - warnedAt > 60_000) {
        warnedAt = Date.now();
        log.warn({ ip: address, limit: limits.maxConnectionsPerIp }, "connection refused: too many from one address");
      }
      socket.write(
        rawErrorResponse("rate_limited", "Too many open connections from this address.", ["Retry-After: 1"]),
      );
      // Closed once written, without waiting for the client to close its side.
      socket.destroySoon();
      return;
    }
    open.set(address, count + 1);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
  app.server.on("checkExpectation", (_request, response: ServerResponse) => {
    const body = JSON.stringify(errorBody("expectation_failed"));
    response.shouldKeepAlive = false;
    response.writeHead(417, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(body),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    });
    response.end(body);
  });
}
