import { hkdfSync } from "node:crypto";
import cookie from "@fastify/cookie";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import type { Kysely } from "kysely";
import { pino, type Logger } from "pino";
import { Counter } from "prom-client";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { Keyring, SecretKey } from "./crypto/encryption.js";
import type { Database } from "./db/database.js";
import { dbEventsOf } from "./db/events.js";

import { errorBody } from "./errors.js";
import {
  createFallbackCounterStore,
  createMemoryCounterStore,
  createRedisCounterStore,
  type CounterStore,
} from "./modules/attempt/limiter.js";
import { createMailNotifier } from "./modules/notify/mail-notifier.js";
import type { Mailer } from "./modules/notify/mailer.js";
import type { Notifier } from "./modules/notify/notifier.js";
import { createMailerFromConfig } from "./modules/notify/transports.js";
import { TOTPSetupSchema } from "./modules/second-factor/totp/totp.schemas.js";
import { UserSchema } from "./modules/user/user.schemas.js";
import { installErrorHandler } from "./plugins/error-handler.js";
import { httpServerOptions, installHttpLimits } from "./plugins/http-limits.js";
import { installInputGuard } from "./plugins/input-guard.js";
import { installDbTroubleMetrics, installMetrics, installOutboxMetrics } from "./plugins/metrics.js";
import { rateLimitFor, registerRateLimit } from "./plugins/rate-limit.js";
import { installRequestLog } from "./plugins/request-log.js";
import { changeBus } from "./db/bus/change-bus.js";
import { registerSecurityHeaders } from "./plugins/security-headers.js";
import { registerSwagger } from "./plugins/swagger.js";
import { registerWebUI } from "./plugins/web-ui.js";
import { watchRedis } from "./redis.js";
import { registerRoutes } from "./routes.js";
import { forgetImportedKeys } from "./modules/second-factor/passkey/assertion.js";
import { ErrorResponse } from "./schemas.js";
import { createServices, type Services } from "./services.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Every service, for tests and tools that reach past the HTTP API. */
    services: Services;
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
    ...httpServerOptions(config.http),
  });
  installHttpLimits(app, config.http, log);
  // While Redis is unreachable the limits count in memory, as without REDIS_URL (SPEC "Staying up").
  const redisClient = deps.redis ?? null;
  const redis = redisClient === null ? null : { client: redisClient, link: watchRedis(redisClient, log) };
  const memoryCounters = createMemoryCounterStore(() => deps.clock.now());
  const counters: CounterStore =
    redis === null
      ? memoryCounters
      : createFallbackCounterStore(createRedisCounterStore(redis.client), memoryCounters, redis.link);
  const mailer = deps.mailer ?? createMailerFromConfig(config, { db: deps.db, keyring: deps.keyring, log });
  const notifier = deps.notifier ?? createMailNotifier({ mailer, clock: deps.clock });
  const derived = (context: string): Buffer =>
    Buffer.from(hkdfSync("sha256", deps.secretKey.key, Buffer.alloc(0), context, 32));
  const services = createServices({
    oidcKeys: { cookie: derived("tessera oidc cookie signing"), storage: derived("tessera oidc storage") },
    config,
    db: deps.db,
    clock: deps.clock,
    keyring: deps.keyring,
    log,
    counters,
    notifier,
    mailer,
  });
  // REQUIRE_2FA on first start; afterwards the database's policy stands (SPEC §2 "Admin and policy").
  await services.policy.seed(config.require2fa);
  app.decorate("services", services);
  app.decorate("cookieDomain", config.cookieDomain);
  app.decorate("siteCookieKey", derived("tessera site session cookie"));
  app.decorate("secureCookies", new URL(config.publicUrl).protocol === "https:");
  app.decorate("metrics", installMetrics(app));
  installOutboxMetrics(app.metrics, mailer);
  const stopDbTroubleMetrics = installDbTroubleMetrics(app.metrics, dbEventsOf(deps.db), log);
  app.decorateRequest("auth", null);
  // Referenced by $id from several modules' routes ("ErrorResponse", "User", "MFASetup").
  for (const schema of [ErrorResponse, UserSchema, TOTPSetupSchema]) app.addSchema(schema);
  installErrorHandler(app, log, databaseOutageReporter(app, log));
  installRequestLog(app, log);
  // JSON only: Fastify's built-in text/plain parser would let a CORS-"simple" request reach the routes (415 instead).
  app.removeContentTypeParser("text/plain");
  installInputGuard(app);

  await app.register(cookie, { secret: derived("tessera cookie signing") });
  await registerSecurityHeaders(app, { corsOrigins: config.corsOrigins });
  await registerRateLimit(app, redis);
  await registerSwagger(app, config);

  await registerRoutes(app, services, config, rateLimitFor(config.rateLimitEnabled));
  await registerWebUI(app, config.webDist, log);

  // The change bus (db/bus/): a lost listener means sessions are read from the database until it is back.
  changeBus(deps.db).onConnection((up) => {
    if (up) log.info("change bus listening: other instances' changes arrive within 1 s");
    else log.warn("change bus lost: reading sessions from the database until it reconnects");
  });
  // Expired rows of every kind, in the background (SPEC §3); `tessera purge` does it at once.
  app.addHook("onReady", async () => services.purger.start());
  app.addHook("onClose", async () => {
    await services.purger.stop();
    await counters.close();
    redis?.link.close();
    stopDbTroubleMetrics();
    // Flushes queued mail (bounded wait); a mailer passed in belongs to the caller.
    if (deps.mailer === undefined) await mailer.close();
  });
  return app;
}

/**
 * Counts each request answered 503 because the database is unreachable (`tessera_db_unavailable_total`)
 * and logs it at most every 10 s: one line per outage, not one per request.
 */
function databaseOutageReporter(app: FastifyInstance, log: Logger): (error: unknown) => void {
  const counter = new Counter({
    name: "tessera_db_unavailable_total",
    help: "Requests answered 503 because the database was unreachable",
    registers: [app.metrics.registry],
  });
  let loggedAt = 0;
  return (error) => {
    counter.inc();
    const now = Date.now();
    if (now - loggedAt < 10_000) return;
    loggedAt = now;
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
    const reason = error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
    log.warn({ code, reason }, "database unreachable: answering 503 unavailable until it is back");
  };
}

/**
 * Empties the caches that only save time: the verified access tokens and the imported passkey keys. A server
 * idle for a while lets go of them before the compaction that drops compiled code (main.ts, heap-compactor.ts);
 * each entry comes back at its next use. Returns how many entries it dropped.
 */
export function forgetIdleCaches(app: FastifyInstance): number {
  return app.services.tokens.forgetVerified() + forgetImportedKeys();
}
