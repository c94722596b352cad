import type { TokenSubject } from "./session.repository.js";
import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuthMethod } from "../token/token.service.js";
import type { UserProfile } from "../user/user.repository.js";

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
  session_id: string;
  /** The two-factor policy covers the user and they have no second factor: the tokens reach enrolment only. */
  enrollment_required?: true;
}

export interface AuthContext {
  userId: string;
  sessionId: string;
  aal: 1 | 2;
  amr: AuthMethod[];
  /** The token's `auth_time`, Unix seconds: when the person last proved a factor (SPEC "Re-authentication"). */
  authTime: number;
  /** Whether the account has two-factor on (the guard then requires aal 2). */
  secondFactorEnabled: boolean;
  /**
   * The two-factor policy (read with the session, so as it is now) covers the user, who has no second factor:
   * the guard lets such a session reach only the routes that enrol one (`duringEnrollment`), 403 elsewhere.
   */
  enrollmentRequired: boolean;
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
  /** Unix milliseconds: when the person last proved a factor. */
  authTime: number;
  refreshToken: string;
}

/**
 * A refresh token as a client presents it. `sessionId`: the session a browser's CSRF token is bound to
 * (session.cookies.ts); a refresh token of any other session is then refused.
 */
export interface RefreshCredential {
  refreshToken: string;
  sessionId?: string;
}

/** Sessions, their tokens and the checks of every authenticated request (session.service.ts). */
export interface SessionService {
  /** A new session and its tokens. `authTime` (Unix ms, default now): when the person last proved a factor. */
  createSession(
    userId: string,
    amr: AuthMethod[],
    meta: RequestMeta,
    options?: { authTime?: number },
  ): Promise<TokenPair>;
  /** The rows of a new session, written through `executor` (a transaction holds them with its other writes). */
  openSession(userId: string, amr: AuthMethod[], meta: RequestMeta, executor: Kysely<Database>): Promise<OpenedSession>;
  /**
   * Signs the access token of an opened session; run it after the transaction that wrote the session has
   * committed. `subject`: what the token says of its user, when the caller read it already; read here otherwise.
   */
  tokensFor(session: OpenedSession, subject?: TokenSubject): Promise<TokenPair>;
  /** Rotates a refresh token, keeping the session's `auth_time`; a used one revokes its whole session (theft). */
  refresh(credential: RefreshCredential, meta: RequestMeta): Promise<TokenPair>;
  authenticate(accessToken: string): Promise<AuthContext | null>;
  /**
   * The live session of this id (the site-wide cookie's, session.cookies.ts siteSession): null when it is
   * unknown, revoked, expired, or its account is locked or (REQUIRE_EMAIL_VERIFICATION) unverified.
   */
  authenticateSession(sessionId: string): Promise<AuthContext | null>;
  /** Whether the session's sign-in is at most REAUTH_MAX_AGE old (SPEC "Re-authentication"). */
  isRecentAuth(auth: Pick<AuthContext, "authTime">): boolean;
  /** Throws 401 `reauth_required` unless the sign-in is recent: the guard of every sensitive action. */
  assertRecentAuth(auth: Pick<AuthContext, "authTime">): void;
  /**
   * After the person proved it is them again (second-factor/reauth.service.ts checks the proof): the same
   * session with a new `auth_time` and the same `aal`/`amr`, its refresh token rotated. unauthorized once revoked.
   */
  renewAuthTime(auth: AuthContext, meta: RequestMeta): Promise<TokenPair>;
  list(auth: AuthContext): Promise<SessionView[]>;
  /** A user's live sessions, newest first (`current` marks `currentSessionId`'s); for administrators too. */
  listFor(userId: string, currentSessionId: string | null): Promise<SessionView[]>;
  revoke(auth: AuthContext, sessionId: string, meta: RequestMeta): Promise<void>;
  /**
   * Ends the session of `accessToken` when it is live, or else the one of the refresh token that
   * `refreshCredential` reads (from the cookie; it throws when there is none to use).
   */
  /**
   * Ends a live session known by its id alone: for a caller that read the id from something we signed (the
   * CSRF cookie at an OpenID Connect logout). False when it was not live.
   */
  endSession(sessionId: string, meta: RequestMeta): Promise<boolean>;
  logout(accessToken: string | null, refreshCredential: () => RefreshCredential, meta: RequestMeta): Promise<void>;
  revokeOthers(userId: string, exceptSessionId: string | null, db?: Kysely<Database>): Promise<number>;
}
