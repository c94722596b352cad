import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { aadFor, type Keyring } from "../../crypto/encryption.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomToken } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import { isAuthMethod } from "../token/token.service.js";
import { findActiveSession as findActiveSessionRow } from "./active-session.repository.js";
import * as repo from "./session.repository.js";
import type { OpenedSession, RefreshCredential, TokenPair } from "./session.types.js";

/** How long a rotated refresh token presented again answers the same successor pair (SPEC "refresh"). */
export const refreshGraceMs = 10_000;

/**
 * Refresh-token rotation (RFC 9700 §4.14.2): each use hands out a new pair; a used token presented
 * again within the grace answers the pair its rotation handed out, after it revokes the session.
 */
export function createRefresher(deps: {
  db: Kysely<Database>;
  clock: Clock;
  /** Encrypts the successor pair kept for the refresh grace. */
  keyring: Keyring;
  audit: AuditService;
  tokensFor: (session: OpenedSession) => Promise<TokenPair>;
  refreshTtlMs: number;
  /** REQUIRE_EMAIL_VERIFICATION and the account's address unverified: its sessions do not work. */
  unverified: (user: { email_verified: number }) => boolean;
}): { refresh(credential: RefreshCredential, meta: RequestMeta): Promise<TokenPair> } {
  const { db, clock, keyring, audit, tokensFor, refreshTtlMs, unverified } = deps;
  const refreshRefused = (): AppError => new AppError("unauthorized", "The refresh token is invalid, used or expired.");
  // The CSRF token names another session than the refresh cookie's: planted, or left from another sign-in.
  const csrfRefused = (): AppError => new AppError("forbidden", "Missing or wrong CSRF token.");

  const successorAad = (tokenHash: string): string => aadFor("refresh_token", "successor_ciphertext", tokenHash);

  /**
   * A used refresh token came back. Within the grace of its rotation it answers the pair that rotation
   * handed out (two tabs refreshing at once keep the session); after it, someone holds a stolen copy,
   * so the session dies (RFC 9700 §4.14.2).
   */
  async function usedTokenPresented(
    tokenHash: string,
    known: repo.RefreshTokenRow,
    meta: RequestMeta,
  ): Promise<TokenPair> {
    const now = clock.now();
    if (known.used_at !== null && known.successor_ciphertext !== null && now - known.used_at <= refreshGraceMs) {
      const row = await findActiveSessionRow(db, known.session_id);
      if (row === undefined || row.expires_at <= now || row.user.locked === 1 || unverified(row.user))
        throw refreshRefused();
      const plaintext = keyring.decrypt(known.successor_ciphertext, successorAad(tokenHash));
      return JSON.parse(plaintext.toString("utf8")) as TokenPair;
    }
    const session = await repo.findSession(db, known.session_id);
    if (session !== undefined && (await repo.revokeSession(db, session.id, session.user_id, now))) {
      const detail = { session_id: session.id };
      await audit.record({ type: "refresh_token_reused", userId: session.user_id, meta, detail });
    }
    throw refreshRefused();
  }

  async function refresh(credential: RefreshCredential, meta: RequestMeta): Promise<TokenPair> {
    const tokenHash = hashSecret(credential.refreshToken);
    const known = await repo.findRefreshToken(db, tokenHash);
    if (known === undefined) throw refreshRefused();
    // Checked before the token is used up: a forged request must not cost the owner their refresh token.
    if (credential.sessionId !== undefined && credential.sessionId !== known.session_id) throw csrfRefused();
    if (known.used_at !== null) return usedTokenPresented(tokenHash, known, meta);
    const now = clock.now();
    const row = await findActiveSessionRow(db, known.session_id);
    if (row === undefined || row.expires_at <= now || row.user.locked === 1 || unverified(row.user))
      throw refreshRefused();
    const refreshToken = randomToken(256);
    const pair = await tokensFor({
      sessionId: row.id,
      userId: row.user_id,
      amr: row.amr.split(" ").filter(isAuthMethod),
      aal: row.aal === 2 ? 2 : 1,
      // A refresh is no proof of anything: the session keeps its last sign-in time.
      authTime: row.auth_time,
      refreshToken,
    });
    const successor = keyring.encrypt(Buffer.from(JSON.stringify(pair)), successorAad(tokenHash));
    const rotated = await db.transaction().execute(async (trx) => {
      // The conditional UPDATE decides the race: a parallel refresh of this token waits for this
      // row's lock and then finds it used, with the pair stored beside it.
      if (!(await repo.consumeRefreshToken(trx, tokenHash, now, successor))) return false;
      await repo.insertRefreshToken(trx, hashSecret(refreshToken), row.id, now);
      await repo.touchSession(trx, row.id, now, now + refreshTtlMs);
      await repo.forgetOldSuccessors(trx, row.id, now - refreshGraceMs);
      return true;
    });
    if (rotated) return pair;
    // Another request rotated it first and has committed: read what it stored.
    const after = await repo.findRefreshToken(db, tokenHash);
    if (after === undefined) throw refreshRefused();
    return usedTokenPresented(tokenHash, after, meta);
  }

  return { refresh };
}
