import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomId, randomToken } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { transactionKeepingRefusals } from "../../db/transaction.js";
import { AppError, type ErrorCode } from "../../errors.js";
import type { MFALockout } from "../attempt/mfa-lockout.js";
import type { AuditService, RequestMeta } from "../audit/audit.service.js";
import * as challenges from "../challenge/challenge.repository.js";
import type { DeviceService } from "../device/device.service.js";
import { isNewUserAgent } from "../email/login-history.repository.js";
import type { Notifier } from "../email/notifier.js";
import type { OpenedSession, SessionService, TokenPair } from "../session/session.service.js";
import type { AuthMethod } from "../token/token.service.js";
import type { SecondFactorInput, TOTPService, TOTPSetup } from "../totp/totp.service.js";
import type { PasswordHasher } from "../user/password.js";
import * as users from "../user/user.repository.js";
import {
  assertPasswordAcceptable,
  normalizeEmail,
  normalizeUsername,
  userViewFromRow,
  type UserView,
} from "../user/user.service.js";

export const loginTokenLifetimeInSeconds = 60 * 5; // 5 minutes (SPEC §2)
export const loginTokenMaxAttempts = 5;

export interface MFAChallenge {
  mfa_required: true;
  "2fa_required": true;
  login_token: string;
  methods: ("totp" | "recovery_code")[];
  expires_in: number;
}

export type LoginResult =
  | { kind: "tokens"; tokens: TokenPair; user: UserView; newDevice: boolean }
  | { kind: "challenge"; challenge: MFAChallenge };

export interface AuthService {
  register(
    input: { username: string; password: string; email?: string | undefined; enable_mfa?: boolean | undefined },
    meta: RequestMeta,
  ): Promise<{ user: UserView; tokens: TokenPair; mfaSetup?: TOTPSetup }>;
  login(
    input: { username: string; password: string; deviceCookie?: string | undefined },
    meta: RequestMeta,
  ): Promise<LoginResult>;
  /** After any first factor (password, magic link): tokens, or a login challenge when 2FA is on. */
  completeFirstFactor(
    user: users.UserRow,
    firstFactor: "pwd" | "email",
    meta: RequestMeta,
    deviceCookie?: string,
  ): Promise<LoginResult>;
  loginWithSecondFactor(
    input: { loginToken: string } & SecondFactorInput,
    meta: RequestMeta,
  ): Promise<{ tokens: TokenPair; user: UserView; userId: string }>;
}

export function createAuthService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  hasher: PasswordHasher;
  sessions: SessionService;
  totp: TOTPService;
  lockout: MFALockout;
  devices: DeviceService;
  audit: AuditService;
  notifier: Notifier;
  requireEmailVerification: boolean;
  onUserRegistered?(user: users.UserRow, meta: RequestMeta): void;
}): AuthService {
  const { db, clock, hasher, sessions, totp, lockout, devices, audit, notifier } = deps;
  const invalidCredentials = (): AppError => new AppError("invalid_credentials");

  interface OpenedLogin {
    opened: OpenedSession;
    now: number;
    fromNewDevice: boolean;
  }

  /**
   * A login's writes, in the caller's transaction: the login time (user row first, as the password,
   * reset, lock and deletion transactions take it, so none of them and a login can deadlock), the
   * session and the audit event. Refuses with `options.refusal` when the account was deleted or locked since it was read.
   */
  async function openLogin(
    trx: Kysely<Database>,
    user: users.UserRow,
    amr: AuthMethod[],
    meta: RequestMeta,
    options: { refusal: ErrorCode; afterSecondFactor?: boolean },
  ): Promise<OpenedLogin> {
    const now = clock.now();
    if (!(await users.recordLogin(trx, user.id, now, { afterSecondFactor: options.afterSecondFactor === true })))
      throw new AppError(options.refusal);
    // Read before the new session exists; skipped for accounts without an address to notify.
    const fromNewDevice = user.email !== null && (await isNewUserAgent(trx, user.id, meta.userAgent));
    const opened = await sessions.openSession(user.id, amr, meta, trx);
    await audit.record({ type: "login_succeeded", userId: user.id, meta, detail: { amr: amr.join(" ") } }, trx);
    return { opened, now, fromNewDevice };
  }

  /** After the commit: signs the access token (on SQLite a transaction holds the only connection) and tells the owner of a new device. */
  async function finishLogin(
    user: users.UserRow,
    login: OpenedLogin,
    meta: RequestMeta,
  ): Promise<{ tokens: TokenPair; user: UserView }> {
    const tokens = await sessions.tokensFor(login.opened);
    if (login.fromNewDevice) notifier.notify(user, "new_device_login", meta);
    // recordLogin shifted the times in one UPDATE; mirror it rather than read the row again.
    return {
      tokens,
      user: userViewFromRow({ ...user, previous_login_at: user.last_login_at, last_login_at: login.now }),
    };
  }

  async function issueLogin(
    user: users.UserRow,
    amr: AuthMethod[],
    meta: RequestMeta,
  ): Promise<{ tokens: TokenPair; user: UserView }> {
    const login = await db
      .transaction()
      .execute((trx) => openLogin(trx, user, amr, meta, { refusal: "invalid_credentials" }));
    return finishLogin(user, login, meta);
  }

  const service: AuthService = {
    async register(input, meta) {
      const username = normalizeUsername(input.username);
      if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(username)) {
        throw new AppError(
          "validation_failed",
          "The username must be 3-64 characters: letters, digits, '.', '_' or '-'.",
          undefined,
          [
            {
              field: "username",
              message: "must be 3-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
            },
          ],
        );
      }
      const email = input.email === undefined || input.email === "" ? null : normalizeEmail(input.email);
      assertPasswordAcceptable(input.password, "password", { username, email });
      const passwordHash = await hasher.hash(input.password);
      // An address already on another account is not attached, and the reply looks the same (SPEC §2).
      const emailOwner = email === null ? undefined : await users.findUserByEmail(db, email);
      const now = clock.now();
      const row: users.UserRow = {
        id: randomId(),
        username,
        email: emailOwner === undefined ? email : null,
        email_verified: 0,
        password_hash: passwordHash,
        roles: "",
        locked: 0,
        mfa_enabled: 0,
        mfa_failed_count: 0,
        mfa_window_started_at: null,
        mfa_consecutive_failures: 0,
        mfa_locked_until: null,
        mfa_lockouts: 0,
        created_at: now,
        last_login_at: now,
        previous_login_at: null,
      };
      await db.transaction().execute(async (trx) => {
        if ((await users.findUserByUsername(trx, username)) !== undefined) throw new AppError("user_exists");
        try {
          await users.insertUser(trx, row);
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError("user_exists");
          throw error;
        }
        await audit.record({ type: "register", userId: row.id, meta }, trx);
      });
      // Outside the transaction: on SQLite a transaction holds the only connection.
      const tokens = await sessions.createSession(row.id, ["pwd"], meta);
      const mfaSetup = input.enable_mfa === true ? await totp.beginSetup(row.id) : undefined;
      if (emailOwner !== undefined) notifier.notify(emailOwner, "email_in_use", meta);
      deps.onUserRegistered?.(row, meta);
      // The reply shows the address as given even when it was not attached, so it looks the same (SPEC §2).
      return { user: userViewFromRow({ ...row, email }), tokens, ...(mfaSetup === undefined ? {} : { mfaSetup }) };
    },

    async login(input, meta) {
      const identifier = input.username.includes("@")
        ? normalizeEmail(input.username)
        : normalizeUsername(input.username);
      const user = identifier.includes("@")
        ? await users.findUserByEmail(db, identifier)
        : await users.findUserByUsername(db, identifier);
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
      if (needsRehash) await users.updateUser(db, user.id, { password_hash: await hasher.hash(input.password) });
      return service.completeFirstFactor(user, "pwd", meta, input.deviceCookie);
    },

    async completeFirstFactor(user, firstFactor, meta, deviceCookie) {
      if (user.locked === 1) {
        await audit.record({ type: "login_failed", userId: user.id, meta, detail: { reason: "account_locked" } });
        throw new AppError("forbidden", "This account is locked. Contact an administrator.");
      }
      if (deps.requireEmailVerification && user.email_verified !== 1 && firstFactor === "pwd") {
        throw new AppError("forbidden", "Verify your email address first; check your inbox for the link.");
      }
      if (user.mfa_enabled === 1) {
        if (await devices.isTrusted(user.id, deviceCookie)) {
          return { kind: "tokens", newDevice: false, ...(await issueLogin(user, [firstFactor, "device"], meta)) };
        }
        const loginToken = randomToken(256);
        const now = clock.now();
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
            methods: ["totp", "recovery_code"],
            expires_in: loginTokenLifetimeInSeconds,
          },
        };
      }
      return { kind: "tokens", newDevice: true, ...(await issueLogin(user, [firstFactor], meta)) };
    },

    async loginWithSecondFactor(input, meta) {
      const found = await challenges.findChallengeForLogin(db, hashSecret(input.loginToken));
      // A locked account's codes are neither counted nor used up (recordLogin re-checks inside the transaction).
      if (found === undefined || found.user.locked === 1) throw new AppError("login_token_expired");
      const { challenge, user, credential } = found;
      const firstFactor: AuthMethod = challenge.first_factor === "email" ? "email" : "pwd";
      let method: "otp" | "recovery" | undefined;
      let login: OpenedLogin;
      try {
        // One transaction from the counted attempt to the new session: a refusal commits what it
        // counted, consumed and audited, then throws; a success commits once.
        login = await transactionKeepingRefusals(db, async (trx) => {
          const now = clock.now();
          // Every code counts towards the account lockout, also one sent on a dead challenge (SPEC §2).
          // Counted before the challenge's own attempt is taken: otherwise a burst on one login token
          // could lock the account between takeAttempt and the check of the one live code.
          await lockout.beginAttempt(user.id, meta, trx);
          if (!(await challenges.takeAttempt(trx, challenge.id, loginTokenMaxAttempts, now))) {
            await audit.record(
              { type: "mfa_failed", userId: user.id, meta, detail: { reason: "login_token_expired" } },
              trx,
            );
            throw new AppError("login_token_expired");
          }
          method = await totp.checkSecondFactor(user.id, input, meta, trx, credential);
          if (!(await challenges.consumeChallenge(trx, challenge.id, now))) throw new AppError("login_token_expired");
          // The login's user update also clears the lockout counters (the attempt succeeded).
          return openLogin(trx, user, [firstFactor, method], meta, {
            refusal: "login_token_expired",
            afterSecondFactor: true,
          });
        });
      } catch (error) {
        // A refusal commits a recovery code it redeemed: its owner hears of it all the same.
        if (error instanceof AppError && method === "recovery") notifier.notify(user, "recovery_code_used", meta);
        throw error;
      }
      if (method === "recovery") notifier.notify(user, "recovery_code_used", meta);
      return { ...(await finishLogin(user, login, meta)), userId: user.id };
    },
  };
  return service;
}

function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = "code" in error ? String(error.code) : "";
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "23505" || code === "ER_DUP_ENTRY";
}
