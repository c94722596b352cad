import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { randomId } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { isUniqueViolation } from "../../db/errors.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import type { EmailService } from "../email/email.service.js";
import type { Notifier } from "../notify/notifier.js";
import type { SecondFactorEnrollment } from "../second-factor/enrollment.service.js";
import { clearedLockout } from "../second-factor/lockout.js";
import type { TOTPSetup } from "../second-factor/totp/totp.service.js";
import type { SessionService, TokenPair } from "../session/session.service.js";
import type { PasswordHasher } from "../user/password.js";
import * as users from "../user/user.repository.js";
import {
  assertPasswordAcceptable,
  normalizeEmail,
  normalizeUsername,
  userViewFromRow,
  type UserView,
} from "../user/user.service.js";

/**
 * A new account: signed in (with `enable_mfa` also a pending TOTP setup, two-factor turning on once it is
 * confirmed), or, under REQUIRE_EMAIL_VERIFICATION, not signed in until the address is verified.
 */
export type Registration =
  { user: UserView; tokens: TokenPair; totpSetup?: TOTPSetup } | { user: UserView; verificationRequired: true };

export interface RegistrationService {
  register(
    input: { username: string; password: string; email?: string | undefined; enable_mfa?: boolean | undefined },
    meta: RequestMeta,
  ): Promise<Registration>;
}

export function createRegistrationService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  hasher: PasswordHasher;
  sessions: SessionService;
  enrollment: SecondFactorEnrollment;
  email: EmailService;
  audit: AuditService;
  notifier: Notifier;
  /** REQUIRE_EMAIL_VERIFICATION: no session until the address is verified, so an address is required. */
  requireEmailVerification: boolean;
}): RegistrationService {
  const { db, clock, hasher, sessions, enrollment, email: addresses, audit, notifier } = deps;
  return {
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
      if (email === null && deps.requireEmailVerification) {
        throw new AppError(
          "validation_failed",
          "An email address is required: it must be verified before sign-in.",
          undefined,
          [{ field: "email", message: "is required" }],
        );
      }
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
        ...clearedLockout,
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
        if (emailOwner !== undefined) await notifier.notify(emailOwner, "email_in_use", meta, trx);
      });
      addresses.sendVerification(row);
      // The reply shows the address as given even when it was not attached, so it looks the same (SPEC §2).
      const user = userViewFromRow({ ...row, email });
      // SPEC "Email": no session for an unverified address; two-factor is set up after the first sign-in.
      if (deps.requireEmailVerification) return { user, verificationRequired: true };
      // Outside the transaction: on SQLite a transaction holds the only connection.
      const tokens = await sessions.createSession(row.id, ["pwd"], meta);
      const totpSetup = input.enable_mfa === true ? await enrollment.beginSetup(row.id) : undefined;
      return { user, tokens, ...(totpSetup === undefined ? {} : { totpSetup }) };
    },
  };
}
