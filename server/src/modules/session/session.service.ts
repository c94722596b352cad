import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Keyring } from "../../crypto/encryption.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomToken, timeOrderedId } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import { isAuthMethod, type AuthMethod, type TokenService } from "../token/token.service.js";
import { rolesOf } from "../user/user.service.js";
import { enrollmentRequired } from "./enrollment-required.js";
import { isRecentAuth, reauthRequired } from "./recent-auth.js";
import { createRefresh } from "./refresh.js";
import { createActiveSessionLookup } from "./session-lookup.js";
import * as repo from "./session.repository.js";
import type { OpenedSession, RefreshCredential, SessionService, TokenPair } from "./session.types.js";

export type {
  AuthContext,
  OpenedSession,
  RefreshCredential,
  SessionService,
  SessionView,
  TokenPair,
} from "./session.types.js";

export function createSessionService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  /** Encrypts the successor pair kept for the refresh grace. */
  keyring: Keyring;
  tokens: TokenService;
  audit: AuditService;
  refreshTokenTtlSeconds: number;
  reauthMaxAgeSeconds: number;
  /** REQUIRE_EMAIL_VERIFICATION: a session of an account whose address is unverified does not work. */
  requireEmailVerification: boolean;
}): SessionService {
  const { db, clock, keyring, tokens, audit, refreshTokenTtlSeconds, reauthMaxAgeSeconds } = deps;
  const refreshTtlMs = refreshTokenTtlSeconds * 1000;
  const findActiveSession = createActiveSessionLookup(db);
  // The CSRF token names another session than the refresh cookie's: planted, or left from another sign-in.
  const refreshRefused = (): AppError => new AppError("unauthorized", "The refresh token is invalid, used or expired.");
  const csrfRefused = (): AppError => new AppError("forbidden", "Missing or wrong CSRF token.");
  const unverified = (user: { email_verified: number }): boolean =>
    deps.requireEmailVerification && user.email_verified !== 1;

  async function tokensFor(session: OpenedSession, read?: repo.TokenSubject): Promise<TokenPair> {
    const subject = read ?? (await repo.findTokenSubject(db, session.userId));
    const roles = subject === undefined ? [] : rolesOf(subject);
    const enrollment = subject !== undefined && enrollmentRequired(subject, roles);
    const access = await tokens.issueAccessToken({
      sub: session.userId,
      sid: session.sessionId,
      amr: session.amr,
      aal: session.aal,
      auth_time: Math.floor(session.authTime / 1000),
      roles,
      ...(enrollment ? { enrollment_required: true } : {}),
    });
    return {
      access_token: access.token,
      refresh_token: session.refreshToken,
      token_type: "Bearer",
      expires_in: access.expiresIn,
      session_id: session.sessionId,
      ...(enrollment ? { enrollment_required: true } : {}),
    };
  }

  /** A new refresh token of the session, stored hashed. */
  async function newRefreshToken(executor: Kysely<Database>, sessionId: string, now: number): Promise<string> {
    const refreshToken = randomToken(256);
    await repo.insertRefreshToken(executor, hashSecret(refreshToken), sessionId, now);
    return refreshToken;
  }

  async function openSession(
    userId: string,
    amr: AuthMethod[],
    meta: RequestMeta,
    executor: Kysely<Database>,
    authTime?: number,
  ): Promise<OpenedSession> {
    const now = clock.now();
    const sessionId = timeOrderedId(now);
    // NIST SP 800-63B §4.2: AAL2 needs a second, distinct factor.
    const aal: 1 | 2 = amr.some((m) => m === "otp" || m === "recovery" || m === "device" || m === "hwk") ? 2 : 1;
    const row = {
      id: sessionId,
      user_id: userId,
      aal,
      amr: amr.join(" "),
      created_at: now,
      auth_time: authTime ?? now,
    };
    await repo.insertSession(executor, {
      ...row,
      last_used_at: now,
      expires_at: now + refreshTtlMs,
      revoked_at: null,
      ip: meta.ip,
      user_agent: meta.userAgent,
    });
    const refreshToken = await newRefreshToken(executor, sessionId, now);
    return { sessionId, userId, amr, aal, authTime: row.auth_time, refreshToken };
  }

  async function revokeByRefreshToken(credential: RefreshCredential, meta: RequestMeta): Promise<void> {
    const known = await repo.findRefreshToken(db, hashSecret(credential.refreshToken));
    const session = known === undefined ? undefined : await repo.findSession(db, known.session_id);
    if (session === undefined || session.revoked_at !== null) throw new AppError("unauthorized");
    if (credential.sessionId !== undefined && credential.sessionId !== session.id) throw csrfRefused();
    await repo.revokeSession(db, session.id, session.user_id, clock.now());
    await audit.record({ type: "logout", userId: session.user_id, meta, detail: { session_id: session.id } });
  }

  const service: SessionService = {
    async createSession(userId, amr, meta, options = {}) {
      return tokensFor(await openSession(userId, amr, meta, db, options.authTime));
    },

    openSession: (userId, amr, meta, executor) => openSession(userId, amr, meta, executor),
    tokensFor,

    refresh: createRefresh({
      db,
      clock,
      keyring,
      audit,
      tokensFor,
      refreshTtlMs,
      usable: (row, now) => row.expires_at > now && row.user.locked !== 1 && !unverified(row.user),
      refused: refreshRefused,
      csrfRefused,
    }),

    async authenticate(accessToken) {
      const claims = await tokens.verifyAccessToken(accessToken);
      if (claims === null) return null;
      const live = await service.authenticateSession(claims.sid);
      if (live === null || live.userId !== claims.sub) return null;
      // What this token says of its sign-in (a later re-authentication gives later tokens a later auth_time).
      return { ...live, aal: claims.aal, amr: claims.amr, authTime: claims.auth_time };
    },

    async authenticateSession(sessionId) {
      const row = await findActiveSession(sessionId);
      if (row === undefined || row.user.locked === 1 || row.expires_at <= clock.now() || unverified(row.user))
        return null;
      const roles = rolesOf(row.user);
      return {
        userId: row.user_id,
        sessionId: row.id,
        aal: row.aal === 2 ? 2 : 1,
        amr: row.amr.split(" ").filter(isAuthMethod),
        authTime: Math.floor(row.auth_time / 1000),
        secondFactorEnabled: row.user.mfa_enabled === 1,
        enrollmentRequired: enrollmentRequired(
          { mfa_enabled: row.user.mfa_enabled, require_2fa: row.require_2fa },
          roles,
        ),
        roles,
        user: row.user,
      };
    },

    isRecentAuth: (auth) => isRecentAuth(auth, clock.now(), reauthMaxAgeSeconds),

    assertRecentAuth(auth) {
      if (!isRecentAuth(auth, clock.now(), reauthMaxAgeSeconds)) throw reauthRequired(reauthMaxAgeSeconds);
    },

    async renewAuthTime(auth, meta) {
      const now = clock.now();
      const refreshToken = await db.transaction().execute(async (trx) => {
        // Conditional UPDATE: a session revoked since the guard read it is not brought back.
        if (!(await repo.renewAuthTime(trx, auth.sessionId, auth.userId, now))) throw new AppError("unauthorized");
        await repo.consumeSessionRefreshTokens(trx, auth.sessionId, now);
        await audit.record(
          { type: "reauthenticated", userId: auth.userId, meta, detail: { session_id: auth.sessionId } },
          trx,
        );
        return newRefreshToken(trx, auth.sessionId, now);
      });
      // The session's own aal and amr: proving the password again never raises what the session is.
      return tokensFor({
        sessionId: auth.sessionId,
        userId: auth.userId,
        amr: auth.amr,
        aal: auth.aal,
        authTime: now,
        refreshToken,
      });
    },

    list: (auth) => service.listFor(auth.userId, auth.sessionId),

    async listFor(userId, currentSessionId) {
      const rows = await repo.listActiveSessions(db, userId, clock.now());
      return rows.map((row) => ({
        id: row.id,
        created_at: new Date(row.created_at).toISOString(),
        last_used_at: new Date(row.last_used_at).toISOString(),
        ip: row.ip,
        user_agent: row.user_agent,
        aal: row.aal,
        amr: row.amr.split(" "),
        current: row.id === currentSessionId,
      }));
    },

    async revoke(auth, sessionId, meta) {
      if (!(await repo.revokeSession(db, sessionId, auth.userId, clock.now())))
        throw new AppError("not_found", "No such session.");
      await audit.record({ type: "session_revoked", userId: auth.userId, meta, detail: { session_id: sessionId } });
    },

    async endSession(sessionId, meta) {
      const session = await repo.findSession(db, sessionId);
      if (session === undefined || !(await repo.revokeSession(db, session.id, session.user_id, clock.now())))
        return false;
      await audit.record({ type: "logout", userId: session.user_id, meta, detail: { session_id: session.id } });
      return true;
    },

    async logout(accessToken, refreshCredential, meta) {
      const context = accessToken === null ? null : await service.authenticate(accessToken);
      if (context !== null) await service.revoke(context, context.sessionId, meta);
      else await revokeByRefreshToken(refreshCredential(), meta);
    },

    revokeOthers: (userId, exceptSessionId, executor = db) =>
      repo.revokeUserSessions(executor, userId, clock.now(), exceptSessionId),
  };
  return service;
}
