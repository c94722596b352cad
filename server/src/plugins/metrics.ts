import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { DbEvents } from "../db/events.js";
import { createRouteMetrics } from "./route-metrics.js";

export interface Metrics {
  registry: Registry;
  logins: Counter<"result">;
}

declare module "fastify" {
  interface FastifyInstance {
    metrics: Metrics;
  }
  interface FastifyRequest {
    /** performance.now() when the request arrived, for the latency histogram. */
    receivedAt: number;
  }
}

/** Prometheus metrics on a registry of this app's own (tests build many apps in one process). */
export function installMetrics(app: FastifyInstance): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const logins = new Counter({
    name: "tessera_logins_total",
    help: "Login attempts by result",
    labelNames: ["result"],
    registers: [registry],
  });

  const routes = createRouteMetrics(registry);
  const seriesOf = (request: FastifyRequest) =>
    routes.seriesOf(request.method, request.is404 ? "unmatched" : (request.routeOptions.url ?? "unmatched"));

  app.decorateRequest("receivedAt", 0);
  app.addHook("onRequest", (request, _reply, done) => {
    request.receivedAt = performance.now();
    done();
  });
  // Counted when the answer is handed to the socket (onSend), not on "finish": an onResponse hook
  // would make Fastify attach response listeners to every request.
  app.addHook("onSend", (request, reply, payload, done) => {
    const latency = request.receivedAt > 0 ? (performance.now() - request.receivedAt) / 1000 : null;
    seriesOf(request).record(reply.statusCode, latency);
    done(null, payload);
  });
  return { registry, logins };
}

/** What the mail outbox reports (notify/outbox-mailer.ts). */
interface OutboxStatsSource {
  stats(): Promise<{
    queued: number;
    sent: number;
    failed: number;
    attemptsFailed: number;
    workerErrors: number;
    oldestAgeSeconds: number;
  }>;
}

/**
 * The mail outbox's gauges, read from the outbox table when /metrics is scraped: messages waiting,
 * the age of the oldest, and this process's sent, given-up, failed-attempt and worker-error counts.
 */
export function installOutboxMetrics(metrics: Metrics, outbox: OutboxStatsSource): void {
  const registers = [metrics.registry];
  let snapshot: ReturnType<OutboxStatsSource["stats"]> | null = null;
  // One query per scrape, shared by the gauges.
  const read = async (): Promise<Awaited<ReturnType<OutboxStatsSource["stats"]>>> => {
    snapshot ??= outbox.stats().finally(() => setTimeout(() => (snapshot = null), 0).unref());
    return snapshot;
  };
  const gauge = (name: string, help: string, pick: (s: Awaited<ReturnType<OutboxStatsSource["stats"]>>) => number) => {
    const series: Gauge = new Gauge({
      name,
      help,
      registers,
      collect: async () => series.set(pick(await read())),
    });
  };
  gauge("tessera_mail_outbox_queued", "Messages in the outbox waiting for delivery", (s) => s.queued);
  gauge("tessera_mail_outbox_oldest_age_seconds", "Age of the oldest message waiting", (s) => s.oldestAgeSeconds);
  gauge("tessera_mail_sent_total", "Messages this process delivered", (s) => s.sent);
  gauge("tessera_mail_failed_total", "Messages this process gave up on after 24 hours", (s) => s.failed);
  gauge("tessera_mail_attempts_failed_total", "Delivery attempts that failed in this process", (s) => s.attemptsFailed);
  gauge(
    "tessera_mail_outbox_worker_errors_total",
    "Outbox worker passes that failed in this process (the outbox unreadable or unwritable)",
    (s) => s.workerErrors,
  );
}

/** What is logged of a driver's error: its code and the first words of its message, never a URL. */
function reasonOf(error: unknown): { code?: string; reason: string } {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
  const reason = error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
  return { ...(code === undefined ? {} : { code }), reason };
}

/**
 * Logs and counts the database's trouble that no answer shows (db/events.ts): pooled connections that
 * error, the SQLite checkpoint thread's death, transactions run again after a deadlock or serialization
 * conflict. Returns the function that stops listening.
 */
export function installDbTroubleMetrics(metrics: Metrics, events: DbEvents, log: Logger): () => void {
  const registers = [metrics.registry];
  const poolErrors = new Counter({
    name: "tessera_db_pool_errors_total",
    help: "Pooled database connections that failed (killed, cut off); the pool replaces them",
    registers,
  });
  const checkpointDeaths = new Counter({
    name: "tessera_sqlite_checkpoint_thread_deaths_total",
    help: "Times the SQLite checkpoint thread died; commits checkpoint the WAL themselves meanwhile",
    registers,
  });
  const conflictRetries = new Counter({
    name: "tessera_db_conflict_retries_total",
    help: "Transactions run again after the database chose them as deadlock or serialization victims",
    registers,
  });
  return events.on((kind, error) => {
    if (kind === "conflict_retry") {
      conflictRetries.inc();
      log.warn(reasonOf(error), "transaction lost a deadlock or serialization conflict; running it again");
      return;
    }
    if (kind === "pool_error") {
      poolErrors.inc();
      log.warn(reasonOf(error), "database connection failed; the pool drops it and opens a new one when needed");
      return;
    }
    checkpointDeaths.inc();
    log.error(
      reasonOf(error),
      "SQLite checkpoint thread died; commits checkpoint the WAL themselves, a new thread may start after a minute",
    );
  });
}
