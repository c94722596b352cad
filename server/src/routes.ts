import type { FastifyInstance } from "fastify";
import type { Config } from "./config.js";
import { accountRoutes } from "./modules/account/account.routes.js";
import { passwordRoutes } from "./modules/account/password.routes.js";
import { adminAuditRoutes } from "./modules/admin/admin-audit.routes.js";
import { adminRoutes } from "./modules/admin/admin.routes.js";
import { emailRoutes } from "./modules/email/email.routes.js";
import { forwardAuthRoutes } from "./modules/forward-auth/forward-auth.routes.js";
import { loginRoutes } from "./modules/login/login.routes.js";
import { passkeyLoginRoutes } from "./modules/login/passkey-login.routes.js";
import { devMailRoutes } from "./modules/notify/dev-mail.routes.js";
import { oidcClientRoutes } from "./modules/oidc/oidc-clients.routes.js";
import { oidcRoutesPlugin } from "./modules/oidc/oidc.routes.js";
import { opsRoutes } from "./modules/ops/ops.routes.js";
import { passkeyRoutes } from "./modules/second-factor/passkey/passkey.routes.js";
import { reauthRoutes } from "./modules/second-factor/reauth.routes.js";
import { secondFactorRoutes } from "./modules/second-factor/second-factor.routes.js";
import { sessionRoutes } from "./modules/session/session.routes.js";
import { tokenRoutes } from "./modules/token/token.routes.js";
import type { RateLimitFor } from "./plugins/rate-limit.js";
import type { Services } from "./services.js";

/** Every module's routes, each given the services it calls and nothing else. */
export async function registerRoutes(
  app: FastifyInstance,
  services: Services,
  config: Readonly<Config>,
  rateLimit: RateLimitFor,
): Promise<void> {
  const { sessions, audit } = services;
  const refreshTokenTtlSeconds = config.refreshTokenTtlSeconds;
  await app.register(opsRoutes, { db: services.db, metricsToken: config.metricsToken });
  await app.register(tokenRoutes, { tokens: services.tokens });
  await app.register(accountRoutes, {
    registration: services.registration,
    account: services.account,
    sessions,
    audit,
    refreshTokenTtlSeconds,
    rateLimit,
  });
  await app.register(loginRoutes, {
    login: services.login,
    magicLinks: services.magicLinks,
    knownClients: services.knownClients,
    refreshTokenTtlSeconds,
    rateLimit,
  });
  await app.register(sessionRoutes, { sessions, refreshTokenTtlSeconds, rateLimit });
  await app.register(secondFactorRoutes, {
    enrollment: services.enrollment,
    totp: services.totp,
    devices: services.devices,
    sessions,
    refreshTokenTtlSeconds,
    rateLimit,
  });
  await app.register(passkeyLoginRoutes, { passkeyLogin: services.passkeyLogin, refreshTokenTtlSeconds, rateLimit });
  await app.register(passkeyRoutes, {
    passkeys: services.passkeys,
    enrollment: services.enrollment,
    sessions,
    refreshTokenTtlSeconds,
    rateLimit,
  });
  await app.register(reauthRoutes, { reauth: services.reauth, sessions, refreshTokenTtlSeconds, rateLimit });
  await app.register(passwordRoutes, { passwords: services.passwords, sessions, rateLimit });
  await app.register(adminRoutes, { admin: services.admin, sessions });
  await app.register(adminAuditRoutes, { db: services.db, audit, policy: services.policy, sessions });
  await app.register(emailRoutes, { email: services.email, sessions, rateLimit });
  await app.register(oidcRoutesPlugin, { oidc: services.oidc, sessions, publicUrl: config.publicUrl });
  await app.register(oidcClientRoutes, { clients: services.oidcClients, sessions });
  await app.register(forwardAuthRoutes, {
    forwardAuth: services.forwardAuth,
    sessions,
    trustProxy: config.trustProxy,
    publicUrl: config.publicUrl,
    cookieDomain: config.cookieDomain,
  });
  await app.register(devMailRoutes, { mailer: services.mailer, enabled: config.devOutbox });
}
