import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomId, randomToken } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { transactionKeepingRefusals } from "../../db/transaction.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import { loginFailuresPerAccount, type AccountLimiter } from "../attempt/account-limits.js";
import type { ClientIdentity, KnownClients } from "../attempt/known-clients.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Notifier } from "../notify/notifier.js";
import type { SecondFactorLockout } from "../second-factor/lockout.js";
import type { AssertionResponse } from "../second-factor/passkey/passkey.schemas.js";
import { PasskeyCloneError } from "../second-factor/passkey/passkey.types.js";
import type { SecondFactorInput, SecondFactorMethod } from "../second-factor/second-factor.js";
import type { SecondFactorService } from "../second-factor/second-factor.service.js";
import type { TOTPFactor } from "../second-factor/totp/totp.service.js";
import type { TrustedDeviceService } from "../second-factor/trusted-device/trusted-device.service.js";
import type { TokenPair } from "../session/session.service.js";
import type { AuthMethod } from "../token/token.service.js";
import type { PasswordHasher } from "../user/password.js";
import * as users from "../user/user.repository.js";
import { normalizeLoginName, type UserView } from "../user/user.service.js";
import * as challenges from "./challenge.repository.js";
import { createCodeAtOnce } from "./code-at-once.js";
import type { LoginChallenge } from "./login.schemas.js";
import type { LoginWrites, OpenedLogin } from "./opened-login.js";

export const loginTokenLifetimeInSeconds = 60 * 5; // 5 minutes (SPEC §2)
export const loginTokenMaxAttempts = 5;

export type LoginResult =
  | { kind: "tokens"; tokens: TokenPair; user: UserView; newDevice: boolean }
  | { kind: "challenge"; challenge: LoginChallenge };

/**
 * The login state machine: a first factor (password here, an emailed link in magic-link.service.ts)
 * yields tokens, or a login challenge (`login_token`) when two-factor is on; the second step turns
 * the challenge and one second factor into tokens.
 */
export interface LoginService {
  /** Under the per-account limit of password guesses, which only failures use up. */
  loginWithPassword(
    input: {
      username: string;
      password: string;
      deviceCookie?: string | undefined;
      /** The `tessera_client` cookie: a browser that signed in before keeps its own allowance. */
      clientCookie?: string | undefined;
      /** Made a known client of the account by a login that issues tokens, in its transaction. */
      client?: ClientIdentity;
    },
    meta: RequestMeta,
  ): Promise<LoginResult>;
  /** After any first factor: tokens, or a login challenge when two-factor is on. */
  completeFirstFactor(
    user: users.UserRow,
    firstFactor: "pwd" | "email",
    meta: RequestMeta,
    deviceCookie?: string,
    client?: ClientIdentity,
  ): Promise<LoginResult>;
  /** `device`: the token of the browser remembered when asked (and trusted devices are on). */
  loginWithSecondFactor(
    input: { loginToken: string; rememberDevice?: boolean | undefined; client?: ClientIdentity } & Omit<
      SecondFactorInput,
      "webauthn"
    > & { webauthn?: AssertionResponse | undefined },
    meta: RequestMeta,
  ): Promise<{ tokens: TokenPair; user: UserView; device?: { token: string; maxAgeSeconds: number } }>;
}

export function createLoginService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  hasher: PasswordHasher;
  limits: AccountLimiter;
  knownClients: KnownClients;
  writes: LoginWrites;
  totp: TOTPFactor;
  secondFactor: SecondFactorService;
  lockout: SecondFactorLockout;
  devices: TrustedDeviceService;
  audit: AuditService;
  notifier: Notifier;
  requireEmailVerification: boolean;
}): LoginService {
  const { db, clock, hasher, limits, knownClients, writes, secondFactor, lockout, devices, audit, notifier } = deps;
  const atOnce = createCodeAtOnce({ clock, totp: deps.totp, lockout, writes, maxAttempts: loginTokenMaxAttempts });
  const invalidCredentials = (): AppError => new AppError("invalid_credentials");

  async function passwordLogin(
    user: users.UserRow | undefined,
    input: { password: string; deviceCookie?: string | undefined; client?: ClientIdentity },
    meta: RequestMeta,
  ): Promise<LoginResult> {
    if (user === undefined) {
      // Same cost as a real account, so timing does not tell whether the user exists.
      await hasher.verifyDummy(input.password);
      await audit.record({ type: "login_failed", userId: null, meta, detail: { reason: "unknown_user" } });
      throw invalidCredentials();
    }
    const { valid, needsRehash } = await hasher.verify(user.password_hash, input.password);
    if (!valid) {
      await audit.record({ type: "login_failed", userId: user.id, meta, detail: { reason: "wrong_password" } });
      throw invalidCredentials();
    }
    if (needsRehash) await users.setPasswordHash(db, user.id, await hasher.hash(input.password));
    return service.completeFirstFactor(user, "pwd", meta, input.deviceCookie, input.client);
  }

  async function challenge(user: users.UserRow, firstFactor: "pwd" | "email", meta: RequestMeta): Promise<LoginResult> {
    const loginToken = randomToken(256);
    const now = clock.now();
    const kinds = new Set((await secondFactor.listFactors(user.id)).map((factor) => factor.kind));
    await challenges.insertChallenge(db, {
      id: randomId(),
      token_hash: hashSecret(loginToken),
      user_id: user.id,
      first_factor: firstFactor,
      created_at: now,
      expires_at: now + loginTokenLifetimeInSeconds * 1000,
      failed_attempts: 0,
      consumed_at: null,
      ip: meta.ip,
      user_agent: meta.userAgent?.slice(0, 255) ?? null,
    });
    return {
      kind: "challenge",
      challenge: {
        mfa_required: true,
        "2fa_required": true,
        login_token: loginToken,
        methods: [
          ...(kinds.has("totp") ? (["totp"] as const) : []),
          "recovery_code",
          ...(kinds.has("passkey") ? (["webauthn"] as const) : []),
        ],
        expires_in: loginTokenLifetimeInSeconds,
      },
    };
  }

  const service: LoginService = {
    async loginWithPassword(input, meta) {
      const identifier = normalizeLoginName(input.username);
      // Email logins match verified addresses only (user.email), so a claim never opens an account.
      const user = identifier.includes("@")
        ? await users.findUserByEmail(db, identifier)
        : await users.findUserByUsername(db, identifier);
      // One count per account whichever name it is reached by; a client that signed in to it before has an
      // allowance of its own, so guesses from elsewhere never stop the owner (SPEC "Accounts and login").
      const own = await knownClients.allowanceKey(user?.id ?? null, { cookie: input.clientCookie, ip: meta.ip });
      const [scope, key] =
        own !== null ? ["login_known", own] : ["login", user === undefined ? `name:${identifier}` : `id:${user.id}`];
      // Reserved before the password is checked, so a burst of parallel guesses cannot all slip under the limit.
      await limits.reserve(scope, key, loginFailuresPerAccount);
      let failed = false;
      try {
        return await passwordLogin(user, input, meta);
      } catch (error) {
        failed = error instanceof AppError && error.code === "invalid_credentials";
        throw error;
      } finally {
        // Only failures use up the allowance.
        if (!failed) await limits.release(scope, key);
      }
    },

    async completeFirstFactor(user, firstFactor, meta, deviceCookie, client) {
      if (user.locked === 1) {
        await audit.record({ type: "login_failed", userId: user.id, meta, detail: { reason: "account_locked" } });
        throw new AppError("forbidden", "This account is locked. Contact an administrator.");
      }
      if (deps.requireEmailVerification && user.email_verified !== 1 && firstFactor === "pwd") {
        throw new AppError("forbidden", "Verify your email address first; check your inbox for the link.");
      }
      if (user.mfa_enabled !== 1) {
        return { kind: "tokens", newDevice: true, ...(await writes.issue(user, [firstFactor], meta, client)) };
      }
      if (await devices.isTrusted(user.id, deviceCookie)) {
        const issued = await writes.issue(user, [firstFactor, "device"], meta, client);
        return { kind: "tokens", newDevice: false, ...issued };
      }
      return challenge(user, firstFactor, meta);
    },

    async loginWithSecondFactor(input, meta) {
      const found = await challenges.findChallengeForLogin(db, hashSecret(input.loginToken));
      // A locked account's codes are neither counted nor used up (the login's UPDATE re-checks in the transaction).
      if (found === undefined || found.user.locked === 1) throw new AppError("login_token_expired");
      // A used or expired challenge, or one out of attempts, counts towards nothing (SPEC §3).
      const live = found.challenge;
      if (live.consumed_at !== null || live.expires_at <= clock.now() || live.failed_attempts >= loginTokenMaxAttempts)
        throw new AppError("login_token_expired");
      const { user, credential } = found;
      const firstFactor: AuthMethod = found.challenge.first_factor === "email" ? "email" : "pwd";
      // A passkey assertion answers the challenge asked for this login token (POST /api/auth/2fa/webauthn/options).
      const binding = { purpose: "second_factor" as const, userId: user.id, loginChallengeId: live.id };
      const factor: SecondFactorInput =
        input.webauthn === undefined
          ? { code: input.code, recoveryCode: input.recoveryCode }
          : { webauthn: { response: input.webauthn, binding } };
      let method: SecondFactorMethod | undefined;
      let login: OpenedLogin;
      try {
        // One transaction from the counted attempt to the new session: a refusal commits what it
        // counted, consumed and audited, then throws; a success commits once.
        login = await transactionKeepingRefusals(db, async (trx) => {
          // A TOTP code: the same step with its statements sent together where the database allows.
          const byCode = await atOnce.step(trx, found, input, firstFactor, meta);
          if (byCode !== undefined) return byCode;
          const now = clock.now();
          // Counted towards the account lockout first (the user row before the challenge's, as every
          // transaction takes them); a challenge that died since it was read takes the count back, so a
          // burst on one login token can neither lock the account nor count more than its live attempts.
          await lockout.beginAttempt(user.id, meta, trx);
          if (!(await challenges.takeAttempt(trx, found.challenge.id, loginTokenMaxAttempts, now))) {
            await lockout.takeBack(user.id, trx);
            throw new AppError("login_token_expired");
          }
          method = await secondFactor.check(user.id, factor, meta, trx, credential);
          if (!(await challenges.consumeChallenge(trx, found.challenge.id, now)))
            throw new AppError("login_token_expired");
          // The login's user update also clears the lockout counters (the attempt succeeded).
          return writes.open(trx, user, [firstFactor, method], meta, {
            refusal: "login_token_expired",
            afterSecondFactor: true,
            client: input.client,
          });
        });
      } catch (error) {
        // A refusal commits a recovery code it redeemed: its owner hears of it all the same.
        if (error instanceof AppError && method === "recovery") await notifier.notify(user, "recovery_code_used", meta);
        if (error instanceof PasskeyCloneError) await notifier.notify(user, "passkey_clone_suspected", meta);
        throw error;
      }
      if (method === "recovery") await notifier.notify(user, "recovery_code_used", meta);
      // The token's roles and policy as read with the challenge: one statement fewer than reading them again.
      const done = await writes.finish(user, login, meta, found);
      if (input.rememberDevice !== true || !devices.enabled) return done;
      // Remembered once the login has committed, as the reply sets the device's cookie.
      const device = { token: await devices.remember(user.id, meta), maxAgeSeconds: devices.maxAgeSeconds };
      return { ...done, device };
    },
  };
  return service;
}
