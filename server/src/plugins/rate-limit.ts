import { createRequire } from "node:module";
import rateLimitPlugin, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { RedisLink } from "../redis.js";

/** Per-IP limit for a route, in @fastify/rate-limit's config shape; off when RATE_LIMIT=off. */
export type RateLimitFor = (max: number, windowInSeconds: number) => { max: number; timeWindow: number } | false;

export function rateLimitFor(enabled: boolean): RateLimitFor {
  return (max, windowInSeconds) => (enabled ? { max, timeWindow: windowInSeconds * 1000 } : false);
}

type Incr = FastifyRateLimitStore["incr"];
type Child = Parameters<FastifyRateLimitStore["child"]>[0];
interface PluginStores {
  LocalStore: new (continueExceeding: boolean, exponentialBackoff: boolean) => FastifyRateLimitStore;
  RedisStore: new (
    continueExceeding: boolean,
    exponentialBackoff: boolean,
    redis: Redis,
    key: string,
  ) => FastifyRateLimitStore;
}

/** The plugin's own two stores (its package has no exports map, so the files are reachable). */
function pluginStores(): PluginStores {
  const require = createRequire(import.meta.url);
  return {
    LocalStore: require("@fastify/rate-limit/store/LocalStore.js") as PluginStores["LocalStore"],
    RedisStore: require("@fastify/rate-limit/store/RedisStore.js") as PluginStores["RedisStore"],
  };
}

/**
 * The plugin's Redis store while Redis answers, its in-memory store (what runs without REDIS_URL) while
 * it does not: a per-IP limit keeps applying during an outage, per instance, and no request fails for it.
 */
class FallbackStore implements FastifyRateLimitStore {
  constructor(
    private readonly shared: FastifyRateLimitStore,
    private readonly local: FastifyRateLimitStore,
    private readonly link: RedisLink,
  ) {}

  incr(...[key, callback, timeWindow, max]: Parameters<Incr>): void {
    if (!this.link.usable()) return this.local.incr(key, callback, timeWindow, max);
    this.shared.incr(
      key,
      (error, result) => {
        if (error === null) {
          this.link.succeeded();
          return callback(null, result);
        }
        this.link.failed(error);
        this.local.incr(key, callback, timeWindow, max);
      },
      timeWindow,
      max,
    );
  }

  child(routeOptions: Child): FastifyRateLimitStore {
    return new FallbackStore(this.shared.child(routeOptions), this.local.child(routeOptions), this.link);
  }
}

function fallbackStore(redis: Redis, link: RedisLink): FastifyRateLimitStoreCtor {
  const { LocalStore, RedisStore } = pluginStores();
  return class extends FallbackStore {
    constructor() {
      super(new RedisStore(false, false, redis, "tessera:rl:"), new LocalStore(false, false), link);
    }
  };
}

/**
 * Per-IP limits, off unless a route asks (`config.rateLimit`); shared through Redis when there is one,
 * counted in memory while Redis is unreachable.
 */
export async function registerRateLimit(
  app: FastifyInstance,
  redis: { client: Redis; link: RedisLink } | null,
): Promise<void> {
  await app.register(rateLimitPlugin, {
    global: false,
    ...(redis === null ? {} : { store: fallbackStore(redis.client, redis.link) }),
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error("rate limited"), { statusCode: 429, retryAfter: context.after }),
    addHeaders: {
      "retry-after": true,
      "x-ratelimit-limit": true,
      "x-ratelimit-remaining": true,
      "x-ratelimit-reset": true,
    },
  });
}
