import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { Keyring } from "./crypto/encryption.js";
import type { Database } from "./db/database.js";
import { createAdminService, type AdminService } from "./modules/admin/admin.service.js";
import { createAccountLimiter, type AccountLimiter } from "./modules/attempt/account-limits.js";
import type { CounterStore } from "./modules/attempt/limiter.js";
import { createMFALockout, type MFALockout } from "./modules/attempt/mfa-lockout.js";
import { createAuditService, type AuditService } from "./modules/audit/audit.service.js";
import { createAuthService, type AuthService } from "./modules/auth/auth.service.js";
import { createDeviceService, type DeviceService } from "./modules/device/device.service.js";
import { createEmailService, type EmailService } from "./modules/email/email.service.js";
import { createLinkService } from "./modules/email/link.service.js";
import { droppingMailer, type Mailer } from "./modules/email/mailer.js";
import type { Notifier } from "./modules/email/notifier.js";
import { createRecoveryService, type RecoveryService } from "./modules/email/recovery.service.js";
import { createSessionService, type SessionService } from "./modules/session/session.service.js";
import { createTokenService, type TokenService } from "./modules/token/token.service.js";
import { createMFAService, type MFAService } from "./modules/totp/mfa.service.js";
import { createTOTPService, type TOTPService } from "./modules/totp/totp.service.js";
import { createPasswordHasher, type PasswordHasher } from "./modules/user/password.js";
import { createUserService, type UserService } from "./modules/user/user.service.js";

export interface Services {
  db: Kysely<Database>;
  clock: Clock;
  keyring: Keyring;
  hasher: PasswordHasher;
  audit: AuditService;
  tokens: TokenService;
  sessions: SessionService;
  devices: DeviceService;
  lockout: MFALockout;
  limits: AccountLimiter;
  totp: TOTPService;
  mfa: MFAService;
  auth: AuthService;
  users: UserService;
  notifier: Notifier;
  mailer: Mailer;
  email: EmailService;
  recovery: RecoveryService;
  admin: AdminService;
}

/** Wires every service once; routes and the CLI receive the result, nothing reads globals. */
export function createServices(deps: {
  config: Readonly<Config>;
  db: Kysely<Database>;
  clock: Clock;
  keyring: Keyring;
  log: FastifyBaseLogger;
  counters: CounterStore;
  notifier: Notifier;
  /** @default a mailer that drops everything (the CLI sends no mail) */
  mailer?: Mailer;
}): Services {
  const { config, db, clock, keyring, log, notifier } = deps;
  const mailer = deps.mailer ?? droppingMailer;
  const hasher = createPasswordHasher(config.passwordHash);
  const audit = createAuditService({ db, clock, log });
  const tokens = createTokenService({
    db,
    keyring,
    clock,
    issuer: config.publicUrl,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  });
  const sessions = createSessionService({
    db,
    clock,
    tokens,
    audit,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
  });
  const devices = createDeviceService({ db, clock, trustedDeviceDays: config.trustedDeviceDays });
  const lockout = createMFALockout({
    db,
    clock,
    onLocked: (userId, lockedUntil, meta, executor) =>
      audit.record(
        {
          type: "mfa_locked",
          userId,
          meta,
          detail: { locked_until: new Date(Math.min(lockedUntil, 8.64e15)).toISOString() },
        },
        executor,
      ),
  });
  const limits = createAccountLimiter(deps.counters, config.rateLimitEnabled);
  const totp = createTOTPService({ db, clock, keyring, lockout, audit, issuer: config.totpIssuer });
  const mfa = createMFAService({ db, clock, hasher, totp, lockout, sessions, devices, audit, notifier, limits });
  const users = createUserService({
    db,
    clock,
    hasher,
    sessions,
    audit,
    reauth: mfa,
    notifier,
    revokeTrustedDevices: (userId, executor) => devices.revokeAll(userId, executor),
  });
  const links = createLinkService({ db, clock, mailer, publicUrl: config.publicUrl });
  const email = createEmailService({ db, links, mailer, audit, notifier, limits, accounts: users, reauth: mfa });
  const auth = createAuthService({
    db,
    clock,
    hasher,
    sessions,
    totp,
    lockout,
    devices,
    audit,
    notifier,
    requireEmailVerification: config.requireEmailVerification,
    onUserRegistered: (user, meta) => email.onUserRegistered(user, meta),
  });
  const recovery = createRecoveryService({
    db,
    hasher,
    links,
    mailer,
    audit,
    notifier,
    limits,
    auth,
    sessions,
    devices,
  });
  const admin = createAdminService({ db, clock, sessions, audit });
  return {
    db,
    clock,
    keyring,
    hasher,
    audit,
    tokens,
    sessions,
    devices,
    lockout,
    limits,
    totp,
    mfa,
    auth,
    users,
    notifier,
    mailer,
    email,
    recovery,
    admin,
  };
}
