import type { Redis } from "ioredis";
import type { RedisLink } from "../../redis.js";

/**
 * Fixed-window counters for per-account limits (failed logins, link requests).
 * In memory for one instance; in Redis when REDIS_URL is set, so every instance sees one count.
 */
export interface CounterStore {
  /** Adds one to `key` and returns the new count; the window starts with the first hit. */
  hit(key: string, windowInSeconds: number): Promise<{ count: number; resetInSeconds: number }>;
  peek(key: string): Promise<{ count: number; resetInSeconds: number }>;
  /** Takes back one hit of a live window (never below zero, never starting a window). */
  release(key: string): Promise<void>;
  close(): Promise<void>;
}

export function createMemoryCounterStore(now: () => number): CounterStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const live = (key: string): { count: number; resetAt: number } | undefined => {
    const entry = windows.get(key);
    if (entry !== undefined && entry.resetAt <= now()) {
      windows.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    async hit(key, windowInSeconds) {
      if (windows.size > 100_000) for (const k of windows.keys()) live(k);
      const entry = live(key) ?? { count: 0, resetAt: now() + windowInSeconds * 1000 };
      entry.count += 1;
      windows.set(key, entry);
      return { count: entry.count, resetInSeconds: Math.ceil((entry.resetAt - now()) / 1000) };
    },
    async peek(key) {
      const entry = live(key);
      return {
        count: entry?.count ?? 0,
        resetInSeconds: entry === undefined ? 0 : Math.ceil((entry.resetAt - now()) / 1000),
      };
    },
    async release(key) {
      const entry = live(key);
      if (entry !== undefined && entry.count > 0) entry.count -= 1;
    },
    async close() {
      windows.clear();
    },
  };
}

export function createRedisCounterStore(redis: Redis, prefix = "tessera:count:"): CounterStore {
  return {
    async hit(key, windowInSeconds) {
      const result = await redis
        .multi()
        .incr(prefix + key)
        .pexpire(prefix + key, windowInSeconds * 1000, "NX")
        .pttl(prefix + key)
        .exec();
      const count = Number(result?.[0]?.[1] ?? 0);
      const ttl = Number(result?.[2]?.[1] ?? windowInSeconds * 1000);
      return { count, resetInSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
    },
    async peek(key) {
      const [count, ttl] = await Promise.all([redis.get(prefix + key), redis.pttl(prefix + key)]);
      return { count: Number(count ?? 0), resetInSeconds: Math.max(0, Math.ceil(ttl / 1000)) };
    },
    async release(key) {
      // Only an existing, positive counter: a plain DECR on an expired key would create one without a TTL.
      await redis.eval(
        "local n = tonumber(redis.call('get', KEYS[1]) or '0') " +
          "if n > 0 then return redis.call('decr', KEYS[1]) end return 0",
        1,
        prefix + key,
      );
    },
    async close() {
      // The Redis connection belongs to the app, which closes it.
    },
  };
}

/**
 * Redis while it answers, this instance's memory while it does not (SPEC "Staying up"): a limit
 * still applies during an outage, counted per instance as without REDIS_URL, and never fails a request.
 */
export function createFallbackCounterStore(
  shared: CounterStore,
  local: CounterStore,
  link: Pick<RedisLink, "usable" | "succeeded" | "failed">,
): CounterStore {
  const either = async <T>(run: (store: CounterStore) => Promise<T>): Promise<T> => {
    if (link.usable()) {
      try {
        const result = await run(shared);
        link.succeeded();
        return result;
      } catch (error) {
        link.failed(error);
      }
    }
    return run(local);
  };
  return {
    hit: (key, windowInSeconds) => either((store) => store.hit(key, windowInSeconds)),
    peek: (key) => either((store) => store.peek(key)),
    release: (key) => either((store) => store.release(key)),
    async close() {
      await Promise.all([shared.close(), local.close()]);
    },
  };
}
