import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomId, randomToken } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import { isAuthMethod, type AuthMethod, type TokenService } from "../token/token.service.js";
import type { UserProfile } from "../user/user.repository.js";
import { rolesOf } from "../user/user.service.js";
import { findActiveSession as findActiveSessionRow } from "./active-session.repository.js";
import { createActiveSessionLookup } from "./session-lookup.js";
import * as repo from "./session.repository.js";

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
  session_id: string;
}

export interface AuthContext {
  userId: string;
  sessionId: string;
  aal: 1 | 2;
  amr: AuthMethod[];
  /** Whether the account has two-factor on (the guard then requires aal 2). */
  secondFactorEnabled: boolean;
  roles: string[];
  /** The user read with the session, so a route needs no second query. */
  user: UserProfile;
}

export interface SessionView {
  id: string;
  created_at: string;
  last_used_at: string;
  ip: string | null;
  user_agent: string | null;
  aal: number;
  amr: string[];
  current: boolean;
}

/** A session whose rows are written (maybe inside a caller's transaction) but whose access token is not yet signed. */
export interface OpenedSession {
  sessionId: string;
  userId: string;
  amr: AuthMethod[];
  aal: 1 | 2;
  refreshToken: string;
}

export interface SessionService {
  createSession(userId: string, amr: AuthMethod[], meta: RequestMeta, db?: Kysely<Database>): Promise<TokenPair>;
  /** The rows of a new session, written through `executor` (a transaction holds them with its other writes). */
  openSession(userId: string, amr: AuthMethod[], meta: RequestMeta, executor: Kysely<Database>): Promise<OpenedSession>;
  /** Signs the access token of an opened session; run it after the transaction that wrote the session has committed. */
  tokensFor(session: OpenedSession): Promise<TokenPair>;
  /** Rotates a refresh token; a used one revokes its whole session (token theft detection). */
  refresh(refreshToken: string, meta: RequestMeta): Promise<TokenPair>;
  authenticate(accessToken: string): Promise<AuthContext | null>;
  list(auth: AuthContext): Promise<SessionView[]>;
  revoke(auth: AuthContext, sessionId: string, meta: RequestMeta): Promise<void>;
  /**
   * Ends the session of `accessToken` when it is live, or else the one of the refresh token that
   * `refreshCredential` reads (from the cookie; it throws when there is none to use).
   */
  logout(accessToken: string | null, refreshCredential: () => string, meta: RequestMeta): Promise<void>;
  revokeOthers(userId: string, exceptSessionId: string | null, db?: Kysely<Database>): Promise<number>;
}

export function createSessionService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  tokens: TokenService;
  audit: AuditService;
  refreshTokenTtlSeconds: number;
}): SessionService {
  const { db, clock, tokens, audit, refreshTokenTtlSeconds } = deps;
  const refreshTtlMs = refreshTokenTtlSeconds * 1000;
  const findActiveSession = createActiveSessionLookup(db);

  async function tokensFor(session: OpenedSession): Promise<TokenPair> {
    const access = await tokens.issueAccessToken({
      sub: session.userId,
      sid: session.sessionId,
      amr: session.amr,
      aal: session.aal,
    });
    return {
      access_token: access.token,
      refresh_token: session.refreshToken,
      token_type: "Bearer",
      expires_in: access.expiresIn,
      session_id: session.sessionId,
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
  ): Promise<OpenedSession> {
    const now = clock.now();
    const sessionId = randomId();
    // NIST SP 800-63B §4.2: AAL2 needs a second, distinct factor.
    const aal: 1 | 2 = amr.some((m) => m === "otp" || m === "recovery" || m === "device") ? 2 : 1;
    await repo.insertSession(executor, {
      id: sessionId,
      user_id: userId,
      aal,
      amr: amr.join(" "),
      created_at: now,
      last_used_at: now,
      expires_at: now + refreshTtlMs,
      revoked_at: null,
      ip: meta.ip,
      user_agent: meta.userAgent,
    });
    return { sessionId, userId, amr, aal, refreshToken: await newRefreshToken(executor, sessionId, now) };
  }

  async function revokeByRefreshToken(refreshToken: string, meta: RequestMeta): Promise<void> {
    const known = await repo.findRefreshToken(db, hashSecret(refreshToken));
    const session = known === undefined ? undefined : await repo.findSession(db, known.session_id);
    if (session === undefined || session.revoked_at !== null) throw new AppError("unauthorized");
    await repo.revokeSession(db, session.id, session.user_id, clock.now());
    await audit.record({ type: "logout", userId: session.user_id, meta, detail: { session_id: session.id } });
  }

  const service: SessionService = {
    async createSession(userId, amr, meta, executor = db) {
      return tokensFor(await openSession(userId, amr, meta, executor));
    },

    openSession,
    tokensFor,

    async refresh(refreshToken, meta) {
      const tokenHash = hashSecret(refreshToken);
      const now = clock.now();
      const known = await repo.findRefreshToken(db, tokenHash);
      if (known === undefined) throw new AppError("unauthorized", "The refresh token is invalid, used or expired.");
      if (!(await repo.consumeRefreshToken(db, tokenHash, now))) {
        // A used refresh token came back: someone holds a stolen copy, so the session dies (RFC 9700 §4.14.2).
        const session = await repo.findSession(db, known.session_id);
        if (session !== undefined && (await repo.revokeSession(db, session.id, session.user_id, now))) {
          await audit.record({
            type: "refresh_token_reused",
            userId: session.user_id,
            meta,
            detail: { session_id: session.id },
          });
        }
        throw new AppError("unauthorized", "The refresh token is invalid, used or expired.");
      }
      const row = await findActiveSessionRow(db, known.session_id);
      if (row === undefined || row.expires_at <= now || row.user.locked === 1) {
        throw new AppError("unauthorized", "The refresh token is invalid, used or expired.");
      }
      await repo.touchSession(db, row.id, now, now + refreshTtlMs);
      const amr = row.amr.split(" ").filter(isAuthMethod);
      const rotated = await newRefreshToken(db, row.id, clock.now());
      return tokensFor({
        sessionId: row.id,
        userId: row.user_id,
        amr,
        aal: row.aal === 2 ? 2 : 1,
        refreshToken: rotated,
      });
    },

    async authenticate(accessToken) {
      const claims = await tokens.verifyAccessToken(accessToken);
      if (claims === null) return null;
      const row = await findActiveSession(claims.sid);
      if (row === undefined || row.user_id !== claims.sub || row.user.locked === 1 || row.expires_at <= clock.now())
        return null;
      return {
        userId: claims.sub,
        sessionId: claims.sid,
        aal: claims.aal,
        amr: claims.amr,
        secondFactorEnabled: row.user.mfa_enabled === 1,
        roles: rolesOf(row.user),
        user: row.user,
      };
    },

    async list(auth) {
      const rows = await repo.listActiveSessions(db, auth.userId, clock.now());
      return rows.map((row) => ({
        id: row.id,
        created_at: new Date(row.created_at).toISOString(),
        last_used_at: new Date(row.last_used_at).toISOString(),
        ip: row.ip,
        user_agent: row.user_agent,
        aal: row.aal,
        amr: row.amr.split(" "),
        current: row.id === auth.sessionId,
      }));
    },

    async revoke(auth, sessionId, meta) {
      if (!(await repo.revokeSession(db, sessionId, auth.userId, clock.now())))
        throw new AppError("not_found", "No such session.");
      await audit.record({ type: "session_revoked", userId: auth.userId, meta, detail: { session_id: sessionId } });
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
