import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { aadFor, type Keyring } from "../../crypto/encryption.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomToken } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import type { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import { isAuthMethod } from "../token/token.service.js";
import { findActiveSession as findActiveSessionRow, type ActiveSession } from "./active-session.repository.js";
import * as repo from "./session.repository.js";
import type { OpenedSession, SessionService, TokenPair } from "./session.types.js";

/** How long a rotated refresh token presented again answers the same successor pair (SPEC "refresh"). */
export const refreshGraceMs = 10_000;

/**
 * Refresh-token rotation (SPEC §2 Tokens): each refresh token works once; presented again within
 * `refreshGraceMs` of its rotation it answers the pair that rotation handed out (kept encrypted with the
 * app key for that window), so two tabs refreshing at once keep the session; later, it revokes the session.
 */
export function createRefresh(deps: {
  db: Kysely<Database>;
  clock: Clock;
  keyring: Keyring;
  audit: AuditService;
  tokensFor(session: OpenedSession): Promise<TokenPair>;
  refreshTtlMs: number;
  /** Whether the session (not revoked, read with its user) may still be refreshed at `now`. */
  usable(row: ActiveSession, now: number): boolean;
  refused(): AppError;
  csrfRefused(): AppError;
}): SessionService["refresh"] {
  const { db, clock, keyring, audit, tokensFor, refreshTtlMs, usable, refused, csrfRefused } = deps;
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
      if (row === undefined || !usable(row, now)) throw refused();
      const plaintext = keyring.decrypt(known.successor_ciphertext, successorAad(tokenHash));
      return JSON.parse(plaintext.toString("utf8")) as TokenPair;
    }
    const session = await repo.findSession(db, known.session_id);
    if (session !== undefined && (await repo.revokeSession(db, session.id, session.user_id, now))) {
      const detail = { session_id: session.id };
      await audit.record({ type: "refresh_token_reused", userId: session.user_id, meta, detail });
    }
    throw refused();
  }

  return async function refresh(credential, meta) {
    const tokenHash = hashSecret(credential.refreshToken);
    const known = await repo.findRefreshToken(db, tokenHash);
    if (known === undefined) throw refused();
    // Checked before the token is used up: a forged request must not cost the owner their refresh token.
    if (credential.sessionId !== undefined && credential.sessionId !== known.session_id) throw csrfRefused();
    if (known.used_at !== null) return usedTokenPresented(tokenHash, known, meta);
    const now = clock.now();
    const row = await findActiveSessionRow(db, known.session_id);
    if (row === undefined || !usable(row, now)) throw refused();
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
    if (after === undefined) throw refused();
    return usedTokenPresented(tokenHash, after, meta);
  };
}
