import rateLimitPlugin from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";

/** Per-IP limit for a route, in @fastify/rate-limit's config shape; off when RATE_LIMIT=off. */
export type RateLimitFor = (max: number, windowInSeconds: number) => { max: number; timeWindow: number } | false;

export function rateLimitFor(enabled: boolean): RateLimitFor {
  return (max, windowInSeconds) => (enabled ? { max, timeWindow: windowInSeconds * 1000 } : false);
}

/** Per-IP limits, off unless a route asks (`config.rateLimit`); shared through Redis when there is one. */
export async function registerRateLimit(app: FastifyInstance, redis: Redis | null): Promise<void> {
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
}
