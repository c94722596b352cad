import { createRequire } from "node:module";
import type * as IORedis from "ioredis";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** A command that gets no answer within this long fails, and the limit is counted in memory instead. */
export const redisCommandTimeoutInMs = 500;
/** The longest wait between two reconnection attempts (they start at 50 ms and double). */
export const redisMaxReconnectDelayInMs = 2_000;

/**
 * A Redis client that never makes a request wait for Redis (SPEC "Staying up"): no offline queue (a
 * command sent while disconnected fails at once), no re-sending of commands a dropped connection
 * took with it, a bounded answer time, and reconnection for ever with exponential backoff.
 */
export function createRedisClient(url: string): Redis {
  // ioredis loads only when REDIS_URL is set.
  const { Redis: Client } = createRequire(import.meta.url)("ioredis") as typeof IORedis;
  return new Client(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: redisCommandTimeoutInMs,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 10), redisMaxReconnectDelayInMs),
    lazyConnect: false,
  });
}

/** Resolves once `redis` is connected, or after `timeoutInMs` (an unreachable Redis does not stop a start). */
export async function redisReady(redis: Redis, timeoutInMs = 2_000): Promise<boolean> {
  if (redis.status === "ready") return true;
  return new Promise((resolve) => {
    const done = (ready: boolean): void => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      resolve(ready);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutInMs);
    redis.on("ready", onReady);
  });
}

/**
 * Whether shared limits go to Redis right now. Users send a command only when `usable()`, and report
 * how it went; while Redis is down they count in this instance's memory. Each change is logged once:
 * the first failure of an outage, and Redis answering again.
 */
export interface RedisLink {
  usable(): boolean;
  succeeded(): void;
  failed(error: unknown): void;
  /** True while Redis is taken for down (for /metrics). */
  readonly down: boolean;
  close(): void;
}

/** After a command failed on a connection that still looks open (a timeout), Redis is left alone this long. */
const pauseAfterFailureInMs = 1_000;

export function watchRedis(redis: Redis, log: Logger, onOutage?: () => void): RedisLink {
  let down = false;
  let pausedUntil = 0;
  const wentDown = (reason: string): void => {
    if (down) return;
    down = true;
    onOutage?.();
    log.warn({ reason }, "Redis unreachable: rate limits count in this instance's memory until it answers again");
  };
  const cameBack = (): void => {
    pausedUntil = 0;
    if (!down) return;
    down = false;
    log.info("Redis answers again: rate limits are shared through Redis again");
  };
  const reasonOf = (error: unknown): string =>
    error instanceof Error ? (error.message || ("code" in error ? String(error.code) : error.name)).slice(0, 200) : "";
  // An "error" with no listener would be printed by ioredis on every reconnection attempt.
  const onError = (error: unknown): void => wentDown(reasonOf(error));
  const onClose = (): void => wentDown("connection closed");
  redis.on("error", onError);
  redis.on("close", onClose);
  redis.on("ready", cameBack);
  return {
    usable: () => redis.status === "ready" && Date.now() >= pausedUntil,
    succeeded: cameBack,
    failed(error) {
      pausedUntil = Date.now() + pauseAfterFailureInMs;
      wentDown(reasonOf(error));
    },
    get down() {
      return down;
    },
    close() {
      redis.off("error", onError);
      redis.off("close", onClose);
      redis.off("ready", cameBack);
    },
  };
}
