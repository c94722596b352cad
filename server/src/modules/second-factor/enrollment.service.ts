import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { retryingConflicts } from "../../db/outage.js";
import { transactionKeepingRefusals } from "../../db/transaction.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Notifier } from "../notify/notifier.js";
import type { AuthContext, SessionService, TokenPair } from "../session/session.service.js";
import type { AuthMethod } from "../token/token.service.js";
import * as users from "../user/user.repository.js";
import type { SecondFactorLockout } from "./lockout.js";
import type { PasskeyFactor } from "./passkey/passkey.service.js";
import type { PasskeyRow } from "./passkey/passkey.repository.js";
import type { AttestationResponse } from "./passkey/passkey.schemas.js";
import type { RecoveryCodeFactor } from "./recovery-code/recovery-code.service.js";
import type { ReauthProof } from "./second-factor.js";
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
  /** Needs the password and a second factor (a code, or a passkey assertion: `ReauthProof`). */
  disable(userId: string, input: ReauthProof, meta: RequestMeta, exceptSessionId: string): Promise<void>;
  /** Needs the password and a second factor, as `disable`. */
  regenerateRecoveryCodes(userId: string, input: ReauthProof, meta: RequestMeta): Promise<string[]>;
  /**
   * Stores a passkey from its attestation. The account's first second factor turns two-factor on (SPEC "Passkeys"):
   * then the reply carries the recovery codes and tokens of a new aal-2 session, and the other sessions end.
   */
  addPasskey(
    auth: Pick<AuthContext, "userId" | "amr" | "authTime">,
    response: AttestationResponse,
    name: string | undefined,
    meta: RequestMeta,
  ): Promise<{ passkey: PasskeyRow; recoveryCodes: string[] | null; tokens: TokenPair | null }>;
  /** Removes a passkey; the last second factor gone, two-factor turns off as `disable` does. Whether it is still on. */
  removePasskey(auth: Pick<AuthContext, "userId" | "sessionId">, id: string, meta: RequestMeta): Promise<boolean>;
  /** Admin or CLI: removes one factor (a TOTP credential or a passkey) by id, as removing it oneself does. */
  removeFactorByAdmin(userId: string, id: string, meta: RequestMeta): Promise<boolean>;
  /** Admin or CLI: turns two-factor off without a code (the person proved who they are elsewhere). */
  resetByAdmin(userId: string, meta: RequestMeta, actorId?: string | null): Promise<void>;
  /** Whether two-factor is on, and how many unused recovery codes are left (0 when it is off). */
  status(userId: string): Promise<{ enabled: boolean; recoveryCodesRemaining: number }>;
}

export function createSecondFactorEnrollment(deps: {
  db: Kysely<Database>;
  totp: TOTPFactor;
  recoveryCodes: RecoveryCodeFactor;
  passkeys: PasskeyFactor;
  secondFactor: SecondFactorService;
  lockout: SecondFactorLockout;
  devices: TrustedDeviceService;
  sessions: SessionService;
  audit: AuditService;
  notifier: Notifier;
}): SecondFactorEnrollment {
  const { db, totp, recoveryCodes, passkeys, secondFactor, lockout, devices, sessions, audit, notifier } = deps;

  /** The first second factor: two-factor on, fresh recovery codes, every session ended (the caller opens a new one). */
  async function turnOn(userId: string, meta: RequestMeta, trx: Kysely<Database>): Promise<string[]> {
    await lockout.reset(userId, trx);
    const fresh = await recoveryCodes.enroll(userId, trx);
    await sessions.revokeOthers(userId, null, trx);
    await audit.record({ type: "mfa_enabled", userId, meta }, trx);
    return fresh;
  }

  /**
   * Removes one factor in a transaction that took the user row first; when it was the last, turns two-factor off
   * (other sessions ended, as `disable`). Whether two-factor is still on.
   */
  async function removeFactor(
    userId: string,
    id: string,
    meta: RequestMeta,
    exceptSessionId: string | null,
  ): Promise<boolean> {
    const user = await users.findUserById(db, userId);
    if (user === undefined) throw new AppError("not_found", "No such user.");
    const { stillOn, turnedOff, removedPasskey } = await db.transaction().execute(async (trx) => {
      // The user row first, as every transaction that writes a user's rows takes it.
      const locked = await users.lockUserRow(trx, userId);
      const factors = await secondFactor.listFactors(userId, trx);
      const factor = factors.find((f) => f.id === id);
      if (factor === undefined) throw new AppError("not_found", "No such factor.");
      if (factor.kind === "passkey") {
        await passkeys.removeOne(userId, id, trx);
        await audit.record({ type: "passkey_removed", userId, meta, detail: { passkey_id: id } }, trx);
      } else {
        await totp.remove(userId, trx);
      }
      const removedPasskey = factor.kind === "passkey";
      if (factors.length > 1 || locked?.mfa_enabled !== 1)
        return { stillOn: locked?.mfa_enabled === 1, turnedOff: false, removedPasskey };
      await turnOff(userId, trx);
      await sessions.revokeOthers(userId, exceptSessionId, trx);
      await audit.record({ type: "mfa_disabled", userId, meta, detail: { reason: "last_factor_removed" } }, trx);
      return { stillOn: false, turnedOff: true, removedPasskey };
    });
    if (removedPasskey) await notifier.notify(user, "passkey_removed", meta);
    if (turnedOff) await notifier.notify(user, "second_factor_disabled", meta);
    return stillOn;
  }

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
      // MySQL may pick it as a deadlock victim beside another account's enrolment (the recovery codes'
      // index gaps); it has no effect outside itself, so it runs again.
      const { codes, user } = await retryingConflicts(() =>
        db.transaction().execute(async (trx) => {
          // The user row first, as a two-factor login's transaction takes it: the two cannot deadlock.
          await users.setSecondFactorEnabled(trx, auth.userId, true);
          await pending.activate(trx);
          // Every session, this one too, is replaced: the new one carries aal 2 and a fresh sid.
          const fresh = await turnOn(auth.userId, meta, trx);
          return { codes: fresh, user: await users.findUserById(trx, auth.userId) };
        }),
      );
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

    async addPasskey(auth, response, name, meta) {
      const before = await users.findUserById(db, auth.userId);
      if (before === undefined) throw new AppError("unauthorized");
      // Keeps refusals: the challenge an attestation used is spent even when the attestation is refused.
      const { passkey, codes } = await transactionKeepingRefusals(db, async (trx) => {
        // The user row first, as every transaction that writes a user's rows takes it; unchanged until the passkey
        // is stored (a refusal commits, and must leave two-factor as it was).
        const turningOn = (await users.lockUserRow(trx, auth.userId))?.mfa_enabled !== 1;
        const row = await passkeys.register(auth.userId, response, name, trx);
        if (turningOn) await users.setSecondFactorEnabled(trx, auth.userId, true);
        await audit.record({ type: "passkey_added", userId: auth.userId, meta, detail: { passkey_id: row.id } }, trx);
        return { passkey: row, codes: turningOn ? await turnOn(auth.userId, meta, trx) : null };
      });
      await notifier.notify(before, "passkey_added", meta);
      if (codes === null) return { passkey, recoveryCodes: null, tokens: null };
      await notifier.notify(before, "second_factor_enabled", meta);
      const amr: AuthMethod[] = [...auth.amr.filter((m) => m === "pwd" || m === "email"), "hwk"];
      // As confirmSetup: the new session keeps the sign-in time of the one it replaces.
      const tokens = await sessions.createSession(auth.userId, amr.length === 1 ? ["pwd", "hwk"] : amr, meta, {
        authTime: auth.authTime * 1000,
      });
      return { passkey, recoveryCodes: codes, tokens };
    },

    removePasskey: async (auth, id, meta) => {
      const owned = (await passkeys.passkeys(auth.userId)).some((p) => p.id === id);
      if (!owned) throw new AppError("not_found", "No such passkey.");
      return removeFactor(auth.userId, id, meta, auth.sessionId);
    },

    removeFactorByAdmin: (userId, id, meta) => removeFactor(userId, id, meta, null),

    async resetByAdmin(userId, meta, actorId = null) {
      const user = await users.findUserById(db, userId);
      if (user === undefined) throw new AppError("not_found", "No such user.");
      await db.transaction().execute(async (trx) => {
        await turnOff(userId, trx);
        await sessions.revokeOthers(userId, null, trx);
        await audit.record({ type: "mfa_reset_by_admin", userId, actorId, meta }, trx);
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
