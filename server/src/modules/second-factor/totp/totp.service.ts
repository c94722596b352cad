import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type QRCodeModule from "qrcode";
import type { Clock } from "../../../clock.js";
import { aadFor, type Keyring } from "../../../crypto/encryption.js";
import { randomId } from "../../../crypto/random.js";
import type { Database } from "../../../db/database.js";
import { AppError } from "../../../errors.js";
import type { RequestMeta } from "../../../request-meta.js";
import { encodeBase32 } from "../../../otp/base32.js";
import { createTOTPKeyURI } from "../../../otp/key-uri.js";
import { defaultTOTPParams, verifyTOTP } from "../../../otp/totp.js";
import type { AuditService } from "../../audit/audit.service.js";
import { findUserById } from "../../user/user.repository.js";
import type { SecondFactor } from "../second-factor.js";
import * as repo from "./totp.repository.js";

/** The QR encoder loads at the first enrolment, not at start (idle memory, SPEC §5). */
async function qrcode(): Promise<typeof QRCodeModule> {
  return (await import("qrcode")).default;
}

export const pendingSetupInSeconds = 60 * 10; // 10 minutes, as Authelia
const secretBytes = 20; // RFC 4226 §4: 160-bit shared secret

export interface TOTPSetup {
  secret: string;
  otpauth_url: string;
  qr_png: string;
  qr_svg: string;
  expires_in: number;
}

/** A TOTP code, and the user's confirmed credential when the caller has read it already (null: none). */
export interface TOTPProof {
  code: string | undefined;
  credential?: repo.ActiveCredential | null;
}

/** TOTP (RFC 6238) as a second factor: `enroll` starts a pending setup that `confirmPending` turns on. */
export interface TOTPFactor extends SecondFactor<TOTPProof, TOTPSetup> {
  pendingQRCode(userId: string, format: "png" | "svg"): Promise<Buffer | string>;
  /**
   * Verifies a code against the pending secret; the returned `activate` confirms it inside the
   * caller's transaction, recording the step so the confirming code cannot be replayed.
   */
  confirmPending(userId: string, code: string): Promise<{ activate(trx: Kysely<Database>): Promise<void> }>;
  /** Moves every stored secret under the first TESSERA_SECRET_KEY; how many it re-encrypted. */
  reencrypt(): Promise<number>;
  /** The time step `code` matches for this credential now; null when it matches none. Touches no row. */
  matchingStep(credential: repo.ActiveCredential, code: string): number | null;
  /**
   * Marks the step used in the caller's transaction, sent ahead (db/pipeline.ts): resolves false when
   * it was used already (a replay). For a login that checked the code with `matchingStep`.
   */
  claimStep(credentialId: string, step: number, executor: Kysely<Database>): Promise<boolean>;
  /**
   * The rest of `check` for a code `matchingStep` has already matched (`step`, or null for no match): a
   * null step is refused as invalid, a step used before as a replay, both audited; otherwise the step is
   * used. The code is not matched again, so a 30-s boundary passing since changes nothing.
   */
  useMatchedStep(
    userId: string,
    credentialId: string,
    step: number | null,
    meta: RequestMeta,
    executor: Kysely<Database>,
  ): Promise<void>;
}

export function createTOTPFactor(deps: {
  db: Kysely<Database>;
  clock: Clock;
  keyring: Keyring;
  audit: AuditService;
  issuer: string;
}): TOTPFactor {
  const { db, clock, keyring, audit, issuer } = deps;
  const aad = (id: string): string => aadFor("totp_credential", "secret_ciphertext", id);
  const nowSeconds = (): number => Math.floor(clock.now() / 1000);
  async function useMatchedStep(
    userId: string,
    credentialId: string | null,
    step: number | null,
    meta: RequestMeta,
    executor: Kysely<Database>,
  ): Promise<void> {
    if (credentialId === null || step === null) {
      await audit.record({ type: "mfa_failed", userId, meta, detail: { method: "totp", reason: "invalid" } }, executor);
      throw new AppError("invalid_otp");
    }
    if (!(await repo.consumeStep(executor, credentialId, step))) {
      await audit.record(
        { type: "mfa_failed", userId, meta, detail: { method: "totp", reason: "replayed" } },
        executor,
      );
      throw new AppError("otp_replayed");
    }
  }
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

  return {
    method: "otp",

    async enroll(userId, executor) {
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
      const QRCode = await qrcode();
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
      const QRCode = await qrcode();
      if (format === "svg") return QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
      return QRCode.toBuffer(uri, { type: "png", errorCorrectionLevel: "M", margin: 2, width: 264 });
    },

    async confirmPending(userId, code) {
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

    async check(userId, proof, meta, executor) {
      const credential =
        proof.credential !== undefined
          ? proof.credential
          : ((await repo.findActiveCredential(executor, userId)) ?? null);
      const step = credential === null || proof.code === undefined ? null : matchStep(credential, proof.code);
      await useMatchedStep(userId, credential?.id ?? null, step, meta, executor);
    },

    matchingStep: (credential, code) => matchStep(credential, code),

    claimStep: (credentialId, step, executor) => repo.claimStep(executor, credentialId, step),

    useMatchedStep,

    remove: (userId, executor) => repo.deleteAllCredentials(executor, userId),

    async list(userId, executor) {
      const rows = await repo.listConfirmedCredentials(executor, userId);
      return rows.map((row) => ({ id: row.id, createdAt: row.created_at }));
    },

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
}
