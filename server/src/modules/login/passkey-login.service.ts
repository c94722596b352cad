import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { hashSecret } from "../../crypto/hash.js";
import type { Database } from "../../db/database.js";
import { transactionKeepingRefusals } from "../../db/transaction.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Notifier } from "../notify/notifier.js";
import type { SecondFactorLockout } from "../second-factor/lockout.js";
import type { AssertionResponse } from "../second-factor/passkey/passkey.schemas.js";
import type { PasskeyFactor } from "../second-factor/passkey/passkey.service.js";
import { PasskeyCloneError } from "../second-factor/passkey/passkey.types.js";
import type { TokenPair } from "../session/session.service.js";
import { findUserById } from "../user/user.repository.js";
import type { UserView } from "../user/user.service.js";
import { findLiveChallenge } from "./challenge.repository.js";
import { loginTokenMaxAttempts } from "./login.service.js";
import type { LoginWrites } from "./opened-login.js";

/**
 * Passkeys at sign-in (SPEC "Passkeys"): the options for the second step of a login (its assertion then goes to
 * POST /api/auth/2fa/login like a code), and passwordless sign-in with a discoverable, user-verifying passkey.
 */
export interface PasskeyLoginService {
  /** Request options for the passkeys of the user a live `login_token` belongs to; the challenge is bound to it. */
  secondFactorOptions(loginToken: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Options for any discoverable passkey of this site, user verification required. */
  passwordlessOptions(): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** A passwordless sign-in: `amr` ["hwk", "user"], aal 2. Failures count towards the owner's lockout. */
  passwordless(response: AssertionResponse, meta: RequestMeta): Promise<{ tokens: TokenPair; user: UserView }>;
}

export function createPasskeyLoginService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  passkeys: PasskeyFactor;
  lockout: SecondFactorLockout;
  writes: LoginWrites;
  audit: AuditService;
  notifier: Notifier;
}): PasskeyLoginService {
  const { db, clock, passkeys, lockout, writes, audit, notifier } = deps;
  const refused = (): AppError => new AppError("invalid_passkey");

  return {
    async secondFactorOptions(loginToken) {
      const challenge = await findLiveChallenge(db, hashSecret(loginToken), loginTokenMaxAttempts, clock.now());
      if (challenge === undefined) throw new AppError("login_token_expired");
      return passkeys.requestOptions({
        purpose: "second_factor",
        userId: challenge.user_id,
        loginChallengeId: challenge.id,
      });
    },

    passwordlessOptions: () => passkeys.requestOptions({ purpose: "passwordless" }),

    async passwordless(response, meta) {
      const userId = await passkeys.ownerOf(response, db);
      const user = userId === null ? undefined : await findUserById(db, userId);
      if (user === undefined) {
        await audit.record({ type: "login_failed", userId: null, meta, detail: { reason: "unknown_passkey" } });
        throw refused();
      }
      if (user.locked === 1) {
        await audit.record({ type: "login_failed", userId: user.id, meta, detail: { reason: "account_locked" } });
        throw new AppError("forbidden", "This account is locked. Contact an administrator.");
      }
      let login;
      try {
        // As the second step of a login: the attempt counts towards the lockout before anything is checked, and a
        // refusal commits what it counted, spent and audited.
        login = await transactionKeepingRefusals(db, async (trx) => {
          await lockout.beginAttempt(user.id, meta, trx);
          await passkeys.check(user.id, { response, binding: { purpose: "passwordless" } }, meta, trx);
          return writes.open(trx, user, ["hwk", "user"], meta, { refusal: "invalid_passkey", afterSecondFactor: true });
        });
      } catch (error) {
        if (error instanceof PasskeyCloneError) await notifier.notify(user, "passkey_clone_suspected", meta);
        throw error;
      }
      return writes.finish(user, login, meta);
    },
  };
}
