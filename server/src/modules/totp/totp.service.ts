import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import QRCode from "qrcode";
import type { Clock } from "../../clock.js";
import { aadFor, type Keyring } from "../../crypto/encryption.js";
import { randomId } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import { encodeBase32 } from "../../otp/base32.js";
import { createTOTPKeyURI } from "../../otp/key-uri.js";
import { defaultTOTPParams, verifyTOTP } from "../../otp/totp.js";
import type { MFALockout } from "../attempt/mfa-lockout.js";
import type { AuditService, RequestMeta } from "../audit/audit.service.js";
import { redeemRecoveryCode } from "../recovery-code/recovery-code.service.js";
import { findUserById } from "../user/user.repository.js";
import * as repo from "./totp.repository.js";

export const pendingSetupInSeconds = 60 * 10; // 10 minutes, as Authelia
const secretBytes = 20; // RFC 4226 §4: 160-bit shared secret

export interface TOTPSetup {
  secret: string;
  otpauth_url: string;
  qr_png: string;
  qr_svg: string;
  expires_in: number;
}

export interface SecondFactorInput {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}

export interface TOTPService {
  beginSetup(userId: string, executor?: Kysely<Database>): Promise<TOTPSetup>;
  pendingQRCode(userId: string, format: "png" | "svg"): Promise<Buffer | string>;
  /**
   * Verifies a code against the pending secret; the returned `activate` confirms it inside the
   * caller's transaction, recording the step so the confirming code cannot be replayed.
   */
  checkPendingCode(userId: string, code: string): Promise<{ activate(trx: Kysely<Database>): Promise<void> }>;
  /**
   * Checks a TOTP or recovery code for an account with 2FA on, under the account lockout: counts the
   * attempt first, consumes the code (replay guard), clears the lockout on success, and returns which
   * factor matched.
   */
  verifySecondFactor(userId: string, input: SecondFactorInput, meta: RequestMeta): Promise<"otp" | "recovery">;
  /**
   * The check alone, for a caller that counts the attempt and clears the lockout itself, inside its
   * transaction `executor`, which must commit also when this refuses (transactionKeepingRefusals).
   * `credential`: the user's confirmed TOTP credential as the caller read it, or null.
   * Failures and a used recovery code are audited here; telling the owner is the caller's, after its commit.
   */
  checkSecondFactor(
    userId: string,
    input: SecondFactorInput,
    meta: RequestMeta,
    executor: Kysely<Database>,
    credential: repo.ActiveCredential | null,
  ): Promise<"otp" | "recovery">;
  removeAll(userId: string, executor: Kysely<Database>): Promise<void>;
  reencrypt(): Promise<number>;
}

export function createTOTPService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  keyring: Keyring;
  lockout: MFALockout;
  audit: AuditService;
  issuer: string;
}): TOTPService {
  const { db, clock, keyring, lockout, audit, issuer } = deps;
  const aad = (id: string): string => aadFor("totp_credential", "secret_ciphertext", id);
  const nowSeconds = (): number => Math.floor(clock.now() / 1000);
  const matchStep = (row: repo.ActiveCredential, code: string): number | null => {
    const step = verifyTOTP(keyring.decrypt(row.secret_ciphertext, aad(row.id)), code, defaultTOTPParams, nowSeconds());
    return step === null ? null : Number(step);
  };

  async function pendingUri(userId: string): Promise<{ row: repo.TOTPCredentialRow; secret: string; uri: string }> {
    const user = await findUserById(db, userId);
    if (user === undefined) throw new AppError("unauthorized");
    if (user.mfa_enabled === 1) throw new AppError("mfa_already_enabled");
    const row = await repo.findPendingCredential(db, userId, clock.now());
    if (row === undefined) throw new AppError("not_found", "There is no pending two-factor setup. Start one first.");
    const secretKey = keyring.decrypt(row.secret_ciphertext, aad(row.id));
    const uri = createTOTPKeyURI({ issuer, accountName: user.username, secret: secretKey, params: defaultTOTPParams });
    return { row, secret: encodeBase32(secretKey), uri };
  }

  const service: TOTPService = {
    async beginSetup(userId, executor = db) {
      const user = await findUserById(executor, userId);
      if (user === undefined) throw new AppError("unauthorized");
      if (user.mfa_enabled === 1) throw new AppError("mfa_already_enabled");
      const id = randomId();
      const now = clock.now();
      await repo.deletePendingCredentials(executor, userId);
      await repo.insertCredential(executor, {
        id,
        user_id: userId,
        secret_ciphertext: keyring.encrypt(randomBytes(secretBytes), aad(id)),
        confirmed_at: null,
        expires_at: now + pendingSetupInSeconds * 1000,
        last_used_step: -1,
        created_at: now,
      });
      const row = await repo.findPendingCredential(executor, userId, now);
      if (row === undefined) throw new Error("pending credential vanished");
      const secretKey = keyring.decrypt(row.secret_ciphertext, aad(row.id));
      const uri = createTOTPKeyURI({
        issuer,
        accountName: user.username,
        secret: secretKey,
        params: defaultTOTPParams,
      });
      const [png, svg] = await Promise.all([
        QRCode.toDataURL(uri, { errorCorrectionLevel: "M", margin: 2, width: 264 }),
        QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 }),
      ]);
      return {
        secret: encodeBase32(secretKey),
        otpauth_url: uri,
        qr_png: png,
        qr_svg: svg,
        expires_in: pendingSetupInSeconds,
      };
    },

    async pendingQRCode(userId, format) {
      const { uri } = await pendingUri(userId);
      if (format === "svg") return QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
      return QRCode.toBuffer(uri, { type: "png", errorCorrectionLevel: "M", margin: 2, width: 264 });
    },

    async checkPendingCode(userId, code) {
      const { row } = await pendingUri(userId).catch((error: unknown) => {
        if (error instanceof AppError && error.code === "not_found") throw new AppError("mfa_setup_expired");
        throw error;
      });
      const step = matchStep(row, code);
      if (step === null) throw new AppError("invalid_otp");
      return {
        async activate(trx) {
          if (!(await repo.confirmCredential(trx, row.id, step, clock.now()))) throw new AppError("mfa_setup_expired");
          await repo.deleteOtherCredentials(trx, userId, row.id);
        },
      };
    },

    async verifySecondFactor(userId, input, meta) {
      await lockout.beginAttempt(userId, meta);
      const credential =
        input.recoveryCode === undefined ? ((await repo.findActiveCredential(db, userId)) ?? null) : null;
      const method = await service.checkSecondFactor(userId, input, meta, db, credential);
      await lockout.reset(userId);
      return method;
    },

    async checkSecondFactor(userId, input, meta, executor, credential) {
      if (input.recoveryCode !== undefined) {
        if (!(await redeemRecoveryCode(executor, userId, input.recoveryCode, clock.now()))) {
          await audit.record(
            { type: "mfa_failed", userId, meta, detail: { method: "recovery_code", reason: "invalid" } },
            executor,
          );
          throw new AppError("invalid_otp", "The recovery code is not valid.");
        }
        await audit.record({ type: "recovery_code_used", userId, meta }, executor);
        return "recovery";
      }
      const step = credential === null || input.code === undefined ? null : matchStep(credential, input.code);
      if (credential === null || step === null) {
        await audit.record(
          { type: "mfa_failed", userId, meta, detail: { method: "totp", reason: "invalid" } },
          executor,
        );
        throw new AppError("invalid_otp");
      }
      if (!(await repo.consumeStep(executor, credential.id, step))) {
        await audit.record(
          { type: "mfa_failed", userId, meta, detail: { method: "totp", reason: "replayed" } },
          executor,
        );
        throw new AppError("otp_replayed");
      }
      return "otp";
    },

    removeAll: (userId, executor) => repo.deleteAllCredentials(executor, userId),

    async reencrypt() {
      let count = 0;
      for (const row of await repo.listAllCredentials(db)) {
        if (!keyring.needsReencryption(row.secret_ciphertext)) continue;
        await repo.updateCiphertext(
          db,
          row.id,
          keyring.encrypt(keyring.decrypt(row.secret_ciphertext, aad(row.id)), aad(row.id)),
        );
        count += 1;
      }
      return count;
    },
  };
  return service;
}
