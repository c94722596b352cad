import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { Notifier } from "../notify/notifier.js";
import type { UserRow } from "../user/user.repository.js";
import type { UserService } from "../user/user.service.js";
import type { SecondFactorLockout } from "./lockout.js";
import type { PasskeyFactor } from "./passkey/passkey.service.js";
import { PasskeyCloneError } from "./passkey/passkey.types.js";
import { normalizeRecoveryCode, type RecoveryCodeFactor } from "./recovery-code/recovery-code.service.js";
import type { FactorCredential, ReauthProof, SecondFactorInput, SecondFactorMethod } from "./second-factor.js";
import type { ActiveCredential } from "./totp/totp.repository.js";
import type { TOTPFactor } from "./totp/totp.service.js";

/** A code field may hold a TOTP code or a recovery code; recovery codes are longer and contain letters. */
export function splitCode(code: string | undefined): SecondFactorInput {
  if (code === undefined) return {};
  return /^\d{6,8}$/.test(code) || normalizeRecoveryCode(code).length < 12 ? { code } : { recoveryCode: code };
}

/** The second factor a re-authentication proof carries, as the login step takes it; null when it carries none. */
export function secondFactorOf(proof: ReauthProof, userId: string): SecondFactorInput | null {
  if (proof.webauthn !== undefined)
    return { webauthn: { response: proof.webauthn, binding: { purpose: "reauth", userId } } };
  return proof.code === undefined || proof.code === "" ? null : splitCode(proof.code);
}

/** One second factor of a user as an owner or admin sees it: never a secret. */
export interface FactorView {
  kind: "totp" | "passkey";
  id: string;
  name: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}

/** Checking a second factor, whichever it is: at login, and when a sensitive change re-authenticates. */
export interface SecondFactorService {
  /**
   * Checks the factor `input` carries for a user with two-factor on, in the caller's transaction
   * `executor`, which must commit also when this refuses (db/transaction.ts); the caller counts the
   * attempt and clears the lockout. `credential`: the user's confirmed TOTP credential as the caller
   * read it (null: none); looked up when undefined. Returns the method that matched.
   */
  check(
    userId: string,
    input: SecondFactorInput,
    meta: RequestMeta,
    executor: Kysely<Database>,
    credential?: ActiveCredential | null,
  ): Promise<SecondFactorMethod>;
  /** `check` under the account lockout, outside any transaction: counts the attempt first, clears it on success. */
  verify(userId: string, input: SecondFactorInput, meta: RequestMeta): Promise<SecondFactorMethod>;
  /**
   * Checks a re-authentication proof: the password (under the per-account limit of password re-checks) and, when
   * the account has two-factor on, its second factor (under the lockout: a wrong one counts). For POST
   * /api/auth/reauth and for sensitive changes whose body carries the proof. Returns the user.
   */
  reauthenticate(userId: string, proof: ReauthProof, meta: RequestMeta): Promise<UserRow>;
  /** Removes every credential of every factor of the user, in the caller's transaction. */
  removeFactors(userId: string, executor: Kysely<Database>): Promise<void>;
  /** Every factor's usable credentials (ids, names, dates: never secret material), for administrators. */
  listFactorsByMethod(userId: string): Promise<{ method: string; credentials: FactorCredential[] }[]>;
  /** Every second factor the user holds (recovery codes apart: they back the others up), oldest first. */
  listFactors(userId: string, executor?: Kysely<Database>): Promise<FactorView[]>;
}

export function createSecondFactorService(deps: {
  db: Kysely<Database>;
  totp: TOTPFactor;
  recoveryCodes: RecoveryCodeFactor;
  passkeys: PasskeyFactor;
  lockout: SecondFactorLockout;
  users: UserService;
  notifier: Notifier;
}): SecondFactorService {
  const { db, totp, recoveryCodes, passkeys, lockout, users, notifier } = deps;
  // Every factor a user may hold; a new factor joins this list and the dispatch in `check`.
  const factors = [totp, recoveryCodes, passkeys];

  const service: SecondFactorService = {
    async check(userId, input, meta, executor, credential) {
      if (input.webauthn !== undefined) {
        await passkeys.check(userId, input.webauthn, meta, executor);
        return passkeys.method;
      }
      if (input.recoveryCode !== undefined) {
        await recoveryCodes.check(userId, { code: input.recoveryCode }, meta, executor);
        return recoveryCodes.method;
      }
      await totp.check(
        userId,
        { code: input.code, ...(credential === undefined ? {} : { credential }) },
        meta,
        executor,
      );
      return totp.method;
    },

    async verify(userId, input, meta) {
      await lockout.beginAttempt(userId, meta);
      const method = await service.check(userId, input, meta, db);
      await lockout.reset(userId);
      return method;
    },

    async reauthenticate(userId, proof, meta) {
      const user = await users.checkPassword(userId, proof.password, meta);
      if (user.mfa_enabled === 1) {
        const input = secondFactorOf(proof, userId);
        if (input === null)
          throw new AppError("mfa_required", "Enter a current code from your authenticator app or a recovery code.");
        const method = await service.verify(userId, input, meta).catch((error: unknown) => {
          if (error instanceof PasskeyCloneError) void notifier.notify(user, "passkey_clone_suspected", meta);
          throw error;
        });
        if (method === "recovery") await notifier.notify(user, "recovery_code_used", meta);
      }
      return user;
    },

    async removeFactors(userId, executor) {
      for (const factor of factors) await factor.remove(userId, executor);
    },

    async listFactorsByMethod(userId) {
      return Promise.all(
        factors.map(async (factor) => ({ method: factor.method, credentials: await factor.list(userId, db) })),
      );
    },

    async listFactors(userId, executor = db) {
      const [codes, keys] = [await totp.list(userId, executor), await passkeys.list(userId, executor)];
      return [
        ...codes.map((c) => ({
          kind: "totp" as const,
          id: c.id,
          name: null,
          createdAt: c.createdAt,
          lastUsedAt: null,
        })),
        ...keys.map((k) => ({
          kind: "passkey" as const,
          id: k.id,
          name: k.name ?? null,
          createdAt: k.createdAt,
          lastUsedAt: k.lastUsedAt ?? null,
        })),
      ].sort((a, b) => a.createdAt - b.createdAt);
    },
  };
  return service;
}
