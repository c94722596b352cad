import { randomBytes } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { Keyring } from "./crypto/encryption.js";
import type { Database } from "./db/database.js";
import { createAccountService, type AccountService } from "./modules/account/account.service.js";
import { createPasswordService, type PasswordService } from "./modules/account/password.service.js";
import { createRegistrationService, type RegistrationService } from "./modules/account/registration.service.js";
import { createAdminService, type AdminService } from "./modules/admin/admin.service.js";
import { createPolicyService, type PolicyService } from "./modules/admin/policy.service.js";
import { createAccountLimiter, type AccountLimiter } from "./modules/attempt/account-limits.js";
import { createPurger, type Purger } from "./modules/ops/purge.service.js";
import { createKnownClients, type KnownClients } from "./modules/attempt/known-clients.js";
import type { CounterStore } from "./modules/attempt/limiter.js";
import { createAuditService, type AuditService } from "./modules/audit/audit.service.js";
import { createAddressLinkService } from "./modules/email/address-link.service.js";
import { createEmailService, type EmailService } from "./modules/email/email.service.js";
import { createLinkService } from "./modules/email/link.service.js";
import { createForwardAuthService, type ForwardAuthService } from "./modules/forward-auth/forward-auth.service.js";
import { createLoginService, type LoginService } from "./modules/login/login.service.js";
import { createMagicLinkService, type MagicLinkService } from "./modules/login/magic-link.service.js";
import { createLoginWrites } from "./modules/login/opened-login.js";
import { createPasskeyLoginService, type PasskeyLoginService } from "./modules/login/passkey-login.service.js";
import { droppingMailer, type Mailer } from "./modules/notify/mailer.js";
import type { Notifier } from "./modules/notify/notifier.js";
import {
  createSecondFactorEnrollment,
  type SecondFactorEnrollment,
} from "./modules/second-factor/enrollment.service.js";
import { createSecondFactorLockout, type SecondFactorLockout } from "./modules/second-factor/lockout.js";
import { createPasskeyFactor, type PasskeyFactor } from "./modules/second-factor/passkey/passkey.service.js";
import { relyingParty } from "./modules/second-factor/passkey/relying-party.js";
import { createReauthService, type ReauthService } from "./modules/second-factor/reauth.service.js";
import {
  createRecoveryCodeFactor,
  type RecoveryCodeFactor,
} from "./modules/second-factor/recovery-code/recovery-code.service.js";
import { createSecondFactorService, type SecondFactorService } from "./modules/second-factor/second-factor.service.js";
import { createTOTPFactor, type TOTPFactor } from "./modules/second-factor/totp/totp.service.js";
import {
  createTrustedDeviceService,
  type TrustedDeviceService,
} from "./modules/second-factor/trusted-device/trusted-device.service.js";
import { createOidcClientService, type OidcClientService } from "./modules/oidc/oidc-client.service.js";
import { createOidcService, type OidcService } from "./modules/oidc/oidc.service.js";
import { createSessionService, type SessionService } from "./modules/session/session.service.js";
import { createTokenService, type TokenService } from "./modules/token/token.service.js";
import { createPasswordHasher, type PasswordHasher } from "./modules/user/password.js";
import { createUserService, type UserService } from "./modules/user/user.service.js";

export interface Services {
  db: Kysely<Database>;
  clock: Clock;
  keyring: Keyring;
  hasher: PasswordHasher;
  audit: AuditService;
  limits: AccountLimiter;
  knownClients: KnownClients;
  notifier: Notifier;
  mailer: Mailer;
  tokens: TokenService;
  users: UserService;
  sessions: SessionService;
  lockout: SecondFactorLockout;
  totp: TOTPFactor;
  recoveryCodes: RecoveryCodeFactor;
  passkeys: PasskeyFactor;
  devices: TrustedDeviceService;
  secondFactor: SecondFactorService;
  reauth: ReauthService;
  enrollment: SecondFactorEnrollment;
  email: EmailService;
  login: LoginService;
  magicLinks: MagicLinkService;
  passkeyLogin: PasskeyLoginService;
  registration: RegistrationService;
  passwords: PasswordService;
  account: AccountService;
  admin: AdminService;
  policy: PolicyService;
  oidcClients: OidcClientService;
  oidc: OidcService;
  forwardAuth: ForwardAuthService;
  purger: Purger;
}

/**
 * Wires every service once, lowest module first (README "Architecture"): each receives only services of
 * lower modules, so nothing calls up or needs a callback. Routes and the CLI receive it; nothing reads globals.
 */
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
  /** Sign the OpenID Connect provider's cookies, key its stored ids. @default random (the CLI serves no OIDC) */
  oidcKeys?: { cookie: Buffer; storage: Buffer };
}): Services {
  const { config, db, clock, keyring, log, notifier } = deps;
  const mailer = deps.mailer ?? droppingMailer;
  const hasher = createPasswordHasher(config.passwordHash);
  const audit = createAuditService({ db, clock, log });
  const limits = createAccountLimiter(deps.counters, config.rateLimitEnabled);
  const knownClients = createKnownClients({ db, clock });
  const tokens = createTokenService({
    db,
    keyring,
    clock,
    issuer: config.publicUrl,
    audience: config.tokenAudience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    log,
  });
  const users = createUserService({ db, hasher, audit, limits });
  const sessions = createSessionService({
    db,
    clock,
    keyring,
    tokens,
    audit,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    reauthMaxAgeSeconds: config.reauthMaxAgeSeconds,
    requireEmailVerification: config.requireEmailVerification,
  });

  const lockout = createSecondFactorLockout({ db, clock, audit });
  const totp = createTOTPFactor({ db, clock, keyring, audit, issuer: config.totpIssuer });
  const recoveryCodes = createRecoveryCodeFactor({ clock, audit });
  const passkeys = createPasskeyFactor({ db, clock, audit, rp: relyingParty(config) });
  const devices = createTrustedDeviceService({ db, clock, audit, trustedDeviceDays: config.trustedDeviceDays });
  const secondFactor = createSecondFactorService({ db, totp, recoveryCodes, passkeys, lockout, users, notifier });
  const reauth = createReauthService({ secondFactor, sessions });
  const enrollment = createSecondFactorEnrollment({
    db,
    totp,
    recoveryCodes,
    passkeys,
    secondFactor,
    lockout,
    devices,
    sessions,
    audit,
    notifier,
  });

  const links = createLinkService({ db, clock, mailer, publicUrl: config.publicUrl });
  const addressLinks = createAddressLinkService({ db, links, mailer, audit, limits, knownClients });
  const email = createEmailService({ db, links, mailer, audit, notifier, limits, users, sessions });
  const writes = createLoginWrites({ db, clock, sessions, lockout, audit, notifier, knownClients });
  const login = createLoginService({
    db,
    clock,
    hasher,
    limits,
    knownClients,
    writes,
    totp,
    secondFactor,
    lockout,
    devices,
    audit,
    notifier,
    requireEmailVerification: config.requireEmailVerification,
  });
  const magicLinks = createMagicLinkService({ addressLinks, login });
  const passkeyLogin = createPasskeyLoginService({ db, clock, passkeys, lockout, writes, audit, notifier });

  const registration = createRegistrationService({
    db,
    clock,
    hasher,
    sessions,
    enrollment,
    email,
    audit,
    requireEmailVerification: config.requireEmailVerification,
  });
  const oidcClients = createOidcClientService({ db, clock, audit });
  const oidc = createOidcService({
    db,
    tokens,
    audit,
    sessions,
    keyring,
    issuer: config.publicUrl,
    keys: deps.oidcKeys ?? { cookie: randomBytes(32), storage: randomBytes(32) },
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
  });
  const passwords = createPasswordService({
    db,
    hasher,
    secondFactor,
    sessions,
    devices,
    links,
    addressLinks,
    audit,
    notifier,
    oidc,
  });
  const account = createAccountService({ db, secondFactor, sessions, devices, email, audit, notifier, oidc });
  const admin = createAdminService({ db, clock, sessions, audit, secondFactor, enrollment, account, oidc });
  const policy = createPolicyService({ db, clock, audit });
  const forwardAuth = createForwardAuthService(config.forwardAuthRules);
  const purger = createPurger({ db, clock, log });
  return {
    db,
    clock,
    keyring,
    hasher,
    audit,
    limits,
    knownClients,
    notifier,
    mailer,
    tokens,
    users,
    sessions,
    lockout,
    totp,
    recoveryCodes,
    passkeys,
    devices,
    secondFactor,
    reauth,
    enrollment,
    email,
    login,
    magicLinks,
    passkeyLogin,
    registration,
    passwords,
    account,
    admin,
    policy,
    oidcClients,
    oidc,
    forwardAuth,
    purger,
  };
}
