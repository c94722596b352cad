import { hkdfSync } from "node:crypto";
import cookie from "@fastify/cookie";
import rateLimitPlugin from "@fastify/rate-limit";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import type { Kysely } from "kysely";
import { pino, type Logger } from "pino";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { Keyring, SecretKey } from "./crypto/encryption.js";
import type { Database } from "./db/database.js";

import { createMemoryCounterStore, createRedisCounterStore, type CounterStore } from "./modules/attempt/limiter.js";
import { createMailNotifier } from "./modules/email/mail-notifier.js";
import type { Mailer } from "./modules/email/mailer.js";
import type { Notifier } from "./modules/email/notifier.js";
import { createMailerFromConfig } from "./modules/email/transports.js";
import { errorBody } from "./errors.js";
import { installErrorHandler } from "./plugins/error-handler.js";
import { installInputGuard } from "./plugins/input-guard.js";
import { installMetrics, type Metrics } from "./plugins/metrics.js";
import { installRequestLog } from "./plugins/request-log.js";
import { registerSecurityHeaders } from "./plugins/security-headers.js";
import { registerSwagger } from "./plugins/swagger.js";
import { registerWebUI } from "./plugins/web-ui.js";
import { routeModules, type RateLimitFor } from "./routes.js";
import { sharedSchemas } from "./schemas.js";
import { createServices, type Services } from "./services.js";

declare module "fastify" {
  interface FastifyInstance {
    services: Services;
    metrics: Metrics;
  }
}

export interface AppDeps {
  db: Kysely<Database>;
  clock: Clock;
  keyring: Keyring;
  /** The primary secret key; the cookie-signing key is derived from it. */
  secretKey: SecretKey;
  redis?: Redis | null;
  /** Security notices; by default they are mailed through `mailer`. */
  notifier?: Notifier;
  /** The mail queue; by default built from SMTP_URL and closed with the app. */
  mailer?: Mailer;
  /** Where the app logs; silent by default. */
  log?: Logger;
}

/** A malformed URL (bad percent-encoding) gets the one error shape too, not Fastify's default body. */
function malformedURL(_error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  // No route matched, so the security-header hooks never ran: the essentials are set here.
  void reply.headers({
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  });
  void reply.code(422).send(errorBody("validation_failed", "The request URL is not valid."));
}

/** Builds the whole HTTP app; never reads process.env and never listens (STYLE S11). */
export async function buildApp(config: Readonly<Config>, deps: AppDeps): Promise<FastifyInstance> {
  const log = deps.log ?? pino({ level: "silent" });
  const app = Fastify({
    // The app logs through `log` itself (plugins/request-log.ts): Fastify's logger would give every
    // request a child logger and response listeners whether or not anything is logged.
    logger: false,
    bodyLimit: 64 * 1024, // 64 KiB: every request here is small; bigger bodies get 413
    trustProxy: config.trustProxy.length === 0 ? false : config.trustProxy,
    ajv: { customOptions: { removeAdditional: "all", coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    frameworkErrors: malformedURL,
  });
  const redis = deps.redis ?? null;
  const counters: CounterStore =
    redis === null ? createMemoryCounterStore(() => deps.clock.now()) : createRedisCounterStore(redis);
  const mailer = deps.mailer ?? createMailerFromConfig(config, deps.clock, log);
  const notifier = deps.notifier ?? createMailNotifier({ mailer, clock: deps.clock });
  const services = createServices({
    config,
    db: deps.db,
    clock: deps.clock,
    keyring: deps.keyring,
    log,
    counters,
    notifier,
    mailer,
  });
  app.decorate("services", services);
  app.decorate("metrics", installMetrics(app));
  app.decorateRequest("auth", null);
  for (const schema of sharedSchemas) app.addSchema(schema);
  installErrorHandler(app, log);
  installRequestLog(app, log);
  // JSON only: Fastify's built-in text/plain parser would let a CORS-"simple" request reach the routes (415 instead).
  app.removeContentTypeParser("text/plain");
  installInputGuard(app);

  const cookieSecret = Buffer.from(
    hkdfSync("sha256", deps.secretKey.key, Buffer.alloc(0), "tessera cookie signing", 32),
  );
  await app.register(cookie, { secret: cookieSecret });
  await registerSecurityHeaders(app, { corsOrigins: config.corsOrigins });
  await app.register(rateLimitPlugin, {
    global: false,
    ...(redis === null ? {} : { redis, nameSpace: "tessera:rl:" }),
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error("rate limited"), { statusCode: 429, retryAfter: context.after }),
    addHeaders: {
      "retry-after": true,
      "x-ratelimit-limit": true,
      "x-ratelimit-remaining": true,
      "x-ratelimit-reset": true,
    },
  });
  const rateLimit: RateLimitFor = (max, windowInSeconds) =>
    config.rateLimitEnabled ? { max, timeWindow: windowInSeconds * 1000 } : false;
  await registerSwagger(app, config);

  for (const routes of routeModules) await app.register(routes, { services, config, rateLimit });
  await registerWebUI(app, config.webDist, log);

  app.addHook("onClose", async () => {
    await counters.close();
    // Flushes queued mail (bounded wait); a mailer passed in belongs to the caller.
    if (deps.mailer === undefined) await mailer.close();
  });
  return app;
}
