import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";

/**
 * One line per answered request, at info level: method, path (never the query, which may carry a link
 * token), status and time. Fastify's own request logging is off (see app.ts): it builds a child logger
 * and response listeners for every request even when nothing is logged. Below info there is no hook at
 * all, so an unlogged request costs nothing.
 */
export function installRequestLog(app: FastifyInstance, log: Logger): void {
  if (!log.isLevelEnabled("info")) return;
  app.addHook("onResponse", (request, reply, done) => {
    const path = request.url.split("?", 1)[0];
    log.info(
      {
        reqId: request.id,
        req: { method: request.method, path, ip: request.ip },
        res: { statusCode: reply.statusCode },
        responseTime: reply.elapsedTime,
      },
      "request completed",
    );
    done();
  });
}
