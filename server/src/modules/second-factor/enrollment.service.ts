import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Notifier } from "../notify/notifier.js";
import type { AuthContext, SessionService, TokenPair } from "../session/session.service.js";
import type { AuthMethod } from "../token/token.service.js";
import * as users from "../user/user.repository.js";
import type { SecondFactorLockout } from "./lockout.js";
import type { RecoveryCodeFactor } from "./recovery-code/recovery-code.service.js";
import type { SecondFactorService } from "./second-factor.service.js";
import type { TOTPFactor, TOTPSetup } from "./totp/totp.service.js";
import type { TrustedDeviceService } from "./trusted-device/trusted-device.service.js";

/** Turning two-factor on and off: the account's second factors as a whole. */
export interface SecondFactorEnrollment {
  /** A pending TOTP secret and its QR code; two-factor turns on once a code confirms it. */
  beginSetup(userId: string): Promise<TOTPSetup>;
  confirmSetup(
    auth: Pick<AuthContext, "userId" | "sessionId" | "amr" | "authTime">,
    code: string,
    meta: RequestMeta,
  ): Promise<{ recoveryCodes: string[]; tokens: TokenPair }>;
  disable(
    userId: string,
    input: { password: string; code: string },
    meta: RequestMeta,
    exceptSessionId: string,
  ): Promise<void>;
  regenerateRecoveryCodes(
    userId: string,
    input: { password: string; code: string },
    meta: RequestMeta,
  ): Promise<string[]>;
  /** Admin or CLI: turns two-factor off without a code (the person proved who they are elsewhere). */
  resetByAdmin(userId: string, meta: RequestMeta): Promise<void>;
  /** Whether two-factor is on, and how many unused recovery codes are left (0 when it is off). */
  status(userId: string): Promise<{ enabled: boolean; recoveryCodesRemaining: number }>;
}

export function createSecondFactorEnrollment(deps: {
  db: Kysely<Database>;
  totp: TOTPFactor;
  recoveryCodes: RecoveryCodeFactor;
  secondFactor: SecondFactorService;
  lockout: SecondFactorLockout;
  devices: TrustedDeviceService;
  sessions: SessionService;
  audit: AuditService;
  notifier: Notifier;
}): SecondFactorEnrollment {
  const { db, totp, recoveryCodes, secondFactor, lockout, devices, sessions, audit, notifier } = deps;

  async function turnOff(userId: string, trx: Kysely<Database>): Promise<void> {
    // The user row first, as a two-factor login's transaction takes it: the two cannot deadlock.
    await users.setSecondFactorEnabled(trx, userId, false);
    await lockout.reset(userId, trx);
    await secondFactor.removeFactors(userId, trx);
    await devices.revokeAll(userId, trx);
  }

  return {
    beginSetup: (userId) => totp.enroll(userId, db),

    async confirmSetup(auth, code, meta) {
      const pending = await totp.confirmPending(auth.userId, code);
      const { codes, user } = await db.transaction().execute(async (trx) => {
        // The user row first, as a two-factor login's transaction takes it: the two cannot deadlock.
        await users.setSecondFactorEnabled(trx, auth.userId, true);
        await pending.activate(trx);
        await lockout.reset(auth.userId, trx);
        const fresh = await recoveryCodes.enroll(auth.userId, trx);
        // Every session, this one too, is replaced: the new one carries aal 2 and a fresh sid.
        await sessions.revokeOthers(auth.userId, null, trx);
        await audit.record({ type: "mfa_enabled", userId: auth.userId, meta }, trx);
        return { codes: fresh, user: await users.findUserById(trx, auth.userId) };
      });
      const amr: AuthMethod[] = [...auth.amr.filter((m) => m === "pwd" || m === "email"), "otp"];
      // The new session keeps the sign-in time of the one it replaces: a code of the factor just enrolled proves
      // nothing the session had not proven (so confirming cannot refresh an old sign-in).
      const tokens = await sessions.createSession(auth.userId, amr.length === 1 ? ["pwd", "otp"] : amr, meta, {
        authTime: auth.authTime * 1000,
      });
      if (user !== undefined) await notifier.notify(user, "second_factor_enabled", meta);
      return { recoveryCodes: codes, tokens };
    },

    async disable(userId, input, meta, exceptSessionId) {
      const user = await secondFactor.reauthenticate(userId, input, meta);
      if (user.mfa_enabled !== 1) throw new AppError("mfa_not_enabled");
      await db.transaction().execute(async (trx) => {
        await turnOff(userId, trx);
        await sessions.revokeOthers(userId, exceptSessionId, trx);
        await audit.record({ type: "mfa_disabled", userId, meta }, trx);
        await notifier.notify(user, "second_factor_disabled", meta, trx);
      });
    },

    async regenerateRecoveryCodes(userId, input, meta) {
      const user = await secondFactor.reauthenticate(userId, input, meta);
      if (user.mfa_enabled !== 1) throw new AppError("mfa_not_enabled");
      const codes = await db.transaction().execute(async (trx) => {
        const fresh = await recoveryCodes.enroll(userId, trx);
        await audit.record({ type: "recovery_codes_regenerated", userId, meta }, trx);
        await notifier.notify(user, "recovery_codes_regenerated", meta, trx);
        return fresh;
      });
      return codes;
    },

    async resetByAdmin(userId, meta) {
      const user = await users.findUserById(db, userId);
      if (user === undefined) throw new AppError("not_found", "No such user.");
      await db.transaction().execute(async (trx) => {
        await turnOff(userId, trx);
        await sessions.revokeOthers(userId, null, trx);
        await audit.record({ type: "mfa_reset_by_admin", userId, meta }, trx);
        await notifier.notify(user, "second_factor_disabled", meta, trx);
      });
    },

    async status(userId) {
      const user = await users.findUserById(db, userId);
      const enabled = user?.mfa_enabled === 1;
      return { enabled, recoveryCodesRemaining: enabled ? (await recoveryCodes.list(userId, db)).length : 0 };
    },
  };
}
