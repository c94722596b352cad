import type { FastifyInstance } from "fastify";
import type { Config } from "./config.js";
import type { Services } from "./services.js";
import { authRoutes } from "./modules/auth/auth.routes.js";
import { totpRoutes } from "./modules/totp/totp.routes.js";
import { userRoutes } from "./modules/user/user.routes.js";
import { sessionRoutes } from "./modules/session/session.routes.js";
import { adminRoutes } from "./modules/admin/admin.routes.js";
import { opsRoutes } from "./modules/ops/ops.routes.js";
import { emailRoutes } from "./modules/email/email.routes.js";

/** Per-IP limit for a route, in @fastify/rate-limit's config shape; off when RATE_LIMIT=off. */
export type RateLimitFor = (max: number, windowInSeconds: number) => { max: number; timeWindow: number } | false;

export interface RouteDeps {
  services: Services;
  config: Readonly<Config>;
  rateLimit: RateLimitFor;
}

export type RoutePlugin = (app: FastifyInstance, deps: RouteDeps) => Promise<void>;

/** Every API module, registered in this order. */
export const routeModules: RoutePlugin[] = [
  opsRoutes,
  authRoutes,
  totpRoutes,
  userRoutes,
  sessionRoutes,
  adminRoutes,
  emailRoutes,
];
