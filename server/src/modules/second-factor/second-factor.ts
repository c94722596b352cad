import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AssertionResponse } from "./passkey/passkey.schemas.js";
import type { PasskeyProof } from "./passkey/passkey.types.js";

/**
 * What a second factor adds to a session's `amr` (RFC 8176): "otp" for TOTP, "recovery" for a recovery code,
 * "hwk" for a passkey (a proof-of-possession key).
 */
export type SecondFactorMethod = "otp" | "recovery" | "hwk";

/** One stored credential of a factor, as `list` shows it. */
export interface FactorCredential {
  id: string;
  createdAt: number;
  /** The name its owner gave it (passkeys). */
  name?: string;
  /** When it was last used (passkeys); null: never. */
  lastUsedAt?: number | null;
}

/**
 * One kind of second factor. TOTP (totp/) and recovery codes (recovery-code/) implement it; a
 * passkey factor will implement it beside them (passkey/), and the login, the re-authentication and
 * the enrolment lifecycle (second-factor.service.ts, enrollment.service.ts) take it as it is.
 *
 * Writes go through the caller's `executor`, so they share its transaction: a login commits its
 * counted attempt, the code's use and the new session together.
 */
export interface SecondFactor<Proof, Enrolment> {
  /** What a session opened with this factor carries in `amr`. */
  readonly method: SecondFactorMethod;
  /**
   * Checks a proof and uses it up (a TOTP step, a recovery code) in `executor`, which must commit
   * also when this refuses (db/transaction.ts). Throws invalid_otp or otp_replayed. Failures and
   * uses are audited here; telling the owner is the caller's, after its commit.
   */
  check(userId: string, proof: Proof, meta: RequestMeta, executor: Kysely<Database>): Promise<void>;
  /** A new credential of this factor (TOTP: a pending secret to confirm; recovery codes: a fresh set). */
  enroll(userId: string, executor: Kysely<Database>): Promise<Enrolment>;
  /** Removes every credential of this factor the user has. */
  remove(userId: string, executor: Kysely<Database>): Promise<void>;
  /** The user's usable credentials of this factor, oldest first. */
  list(userId: string, executor: Kysely<Database>): Promise<FactorCredential[]>;
}

/** A second factor as a client sends it: exactly one of these. */
export interface SecondFactorInput {
  code?: string | undefined;
  recoveryCode?: string | undefined;
  /** A passkey assertion and the ceremony it answers. */
  webauthn?: PasskeyProof | undefined;
}

/**
 * What a person shows to prove it is them again (SPEC "Re-authentication"): the password, and when the account
 * has two-factor on a current second factor. Checked by SecondFactorService.reauthenticate, the one function every
 * re-authentication goes through (POST /api/auth/reauth, and the routes whose body carries the password).
 * The second factor is a code or a passkey assertion (answering a challenge from POST
 * /api/auth/passkeys/reauth/options), turned into a SecondFactorInput in `secondFactorOf` (second-factor.service.ts).
 */
export type ReauthProof = {
  password: string;
  /** A TOTP code or a recovery code; absent or "" when none was sent. */
  code?: string | undefined;
  /** A passkey assertion; absent when none was sent. */
  webauthn?: AssertionResponse | undefined;
};
