import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import { loginFailuresPerAccount, type AccountLimiter } from "../attempt/account-limits.js";
import type { MFALockout } from "../attempt/mfa-lockout.js";
import type { AuditService, RequestMeta } from "../audit/audit.service.js";
import type { DeviceService } from "../device/device.service.js";
import type { Notifier } from "../email/notifier.js";
import { deleteRecoveryCodes } from "../recovery-code/recovery-code.repository.js";
import { generateRecoveryCodes, normalizeRecoveryCode } from "../recovery-code/recovery-code.service.js";
import type { SessionService, TokenPair } from "../session/session.service.js";
import type { AuthMethod } from "../token/token.service.js";
import type { PasswordHasher } from "../user/password.js";
import * as users from "../user/user.repository.js";
import type { ReauthVerifier } from "../user/user.service.js";
import type { TOTPService } from "./totp.service.js";

/** A code field may hold a TOTP code or a recovery code; recovery codes are longer and contain letters. */
export function splitCode(code: string | undefined): { code?: string; recoveryCode?: string } {
  if (code === undefined) return {};
  return /^\d{6,8}$/.test(code) || normalizeRecoveryCode(code).length < 12 ? { code } : { recoveryCode: code };
}

export interface MFAService extends ReauthVerifier {
  /** The password half of a re-check, under the per-account limit; for changes that need no code. */
  checkPassword(userId: string, password: string, meta: RequestMeta): Promise<users.UserRow>;
  confirmSetup(
    auth: { userId: string; sessionId: string; amr: AuthMethod[] },
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
  /** Admin or CLI: turns 2FA off without a code (the person proved who they are elsewhere). */
  resetByAdmin(userId: string, meta: RequestMeta): Promise<void>;
}

export function createMFAService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  hasher: PasswordHasher;
  totp: TOTPService;
  lockout: MFALockout;
  sessions: SessionService;
  devices: DeviceService;
  audit: AuditService;
  notifier: Notifier;
  limits: AccountLimiter;
}): MFAService {
  const { db, clock, hasher, totp, lockout, sessions, devices, audit, notifier, limits } = deps;

  async function turnOff(userId: string, trx: Kysely<Database>): Promise<void> {
    // The user row first, as a 2FA login's transaction takes it: the two cannot deadlock.
    await users.updateUser(trx, userId, { mfa_enabled: 0 });
    await lockout.reset(userId, trx);
    await totp.removeAll(userId, trx);
    await deleteRecoveryCodes(trx, userId);
    await devices.revokeAll(userId, trx);
  }

  const service: MFAService = {
    async checkPassword(userId, password, meta) {
      const user = await users.findUserById(db, userId);
      if (user === undefined) throw new AppError("unauthorized");
      // Re-checking the password is a password guess too: a stolen access token must not become an
      // unlimited oracle. Failures count per account as on login, reserved before the check.
      await limits.reserve("reauth", userId, loginFailuresPerAccount);
      const { valid } = await hasher.verify(user.password_hash, password);
      if (!valid) {
        await audit.record({ type: "login_failed", userId, meta, detail: { reason: "wrong_password_reauth" } });
        throw new AppError("invalid_credentials", "The password is not correct.");
      }
      await limits.release("reauth", userId);
      return user;
    },

    async reauthenticate(userId, input, meta) {
      const user = await service.checkPassword(userId, input.password, meta);
      if (user.mfa_enabled === 1) {
        if (input.code === undefined || input.code === "")
          throw new AppError("mfa_required", "Enter a current code from your authenticator app or a recovery code.");
        const method = await totp.verifySecondFactor(userId, splitCode(input.code), meta);
        if (method === "recovery") notifier.notify(user, "recovery_code_used", meta);
      }
      return user;
    },

    async confirmSetup(auth, code, meta) {
      const pending = await totp.checkPendingCode(auth.userId, code);
      const { recoveryCodes, user } = await db.transaction().execute(async (trx) => {
        // The user row first, as a 2FA login's transaction takes it: the two cannot deadlock.
        await users.updateUser(trx, auth.userId, { mfa_enabled: 1 });
        await pending.activate(trx);
        await lockout.reset(auth.userId, trx);
        const codes = await generateRecoveryCodes(trx, auth.userId, clock.now());
        // Every session, this one too, is replaced: the new one carries aal 2 and a fresh sid.
        await sessions.revokeOthers(auth.userId, null, trx);
        await audit.record({ type: "mfa_enabled", userId: auth.userId, meta }, trx);
        return { recoveryCodes: codes, user: await users.findUserById(trx, auth.userId) };
      });
      const amr: AuthMethod[] = [...auth.amr.filter((m) => m === "pwd" || m === "email"), "otp"];
      const tokens = await sessions.createSession(auth.userId, amr.length === 1 ? ["pwd", "otp"] : amr, meta);
      if (user !== undefined) notifier.notify(user, "mfa_enabled", meta);
      return { recoveryCodes, tokens };
    },

    async disable(userId, input, meta, exceptSessionId) {
      const user = await service.reauthenticate(userId, input, meta);
      if (user.mfa_enabled !== 1) throw new AppError("mfa_not_enabled");
      await db.transaction().execute(async (trx) => {
        await turnOff(userId, trx);
        await sessions.revokeOthers(userId, exceptSessionId, trx);
        await audit.record({ type: "mfa_disabled", userId, meta }, trx);
      });
      notifier.notify(user, "mfa_disabled", meta);
    },

    async regenerateRecoveryCodes(userId, input, meta) {
      const user = await service.reauthenticate(userId, input, meta);
      if (user.mfa_enabled !== 1) throw new AppError("mfa_not_enabled");
      const codes = await db.transaction().execute(async (trx) => {
        const fresh = await generateRecoveryCodes(trx, userId, clock.now());
        await audit.record({ type: "recovery_codes_regenerated", userId, meta }, trx);
        return fresh;
      });
      notifier.notify(user, "recovery_codes_regenerated", meta);
      return codes;
    },

    async resetByAdmin(userId, meta) {
      const user = await users.findUserById(db, userId);
      if (user === undefined) throw new AppError("not_found", "No such user.");
      await db.transaction().execute(async (trx) => {
        await turnOff(userId, trx);
        await sessions.revokeOthers(userId, null, trx);
        await audit.record({ type: "mfa_reset_by_admin", userId, meta }, trx);
      });
      notifier.notify(user, "mfa_disabled", meta);
    },
  };
  return service;
}
