import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { AppError, BearerError } from "../../errors.js";
import type { AuthContext, SessionService } from "./session.types.js";

declare module "fastify" {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

export interface GuardOptions {
  /**
   * "full": an account with two-factor on needs a session that passed it (aal 2), the default for
   * account routes. "any": any live session, e.g. to finish enrolling a second factor.
   */
  level?: "full" | "any";
  role?: "admin";
  /**
   * A sensitive action (SPEC "Re-authentication"): the token's `auth_time` must be at most REAUTH_MAX_AGE
   * old, else 401 `reauth_required` (the client re-authenticates at POST /api/auth/reauth and retries).
   * Routes whose body itself carries the password (and code) check that in their service instead.
   * `role: "admin"` implies it.
   * @default false
   */
  recent?: boolean;
  /**
   * The route enrols a second factor (or shows the account), so a session the two-factor policy holds in
   * enrolment may use it: GET /api/user/me, TOTP setup and verify-setup, passkey registration. Every other
   * guarded route answers such a session 403 `enrollment_required` (SPEC §2 "Admin and policy").
   * @default false
   */
  duringEnrollment?: boolean;
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
  return match?.[1] ?? null;
}

/** RFC 6750 §3.1: a token was presented and is not good (malformed, expired, revoked, another audience …). */
const invalidToken = (): BearerError =>
  new BearerError("unauthorized", {
    error: "invalid_token",
    description: "The access token is invalid, expired or revoked",
  });

/** A per-route preHandler that throws typed errors (STYLE S12): never a check on the URL. */
export function requireAuth(sessions: SessionService, options: GuardOptions = {}): preHandlerAsyncHookHandler {
  const admin = options.role === "admin";
  const recent = options.recent === true || admin;
  return async function guard(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request);
    if (token === null) {
      if (request.headers.authorization?.startsWith("Bearer ") === true) throw invalidToken();
      throw new AppError("unauthorized");
    }
    const auth = await sessions.authenticate(token);
    if (auth === null) throw invalidToken();
    // Before the role check: an administrator without a second factor is held in enrolment too.
    if (auth.enrollmentRequired && options.duringEnrollment !== true) throw new AppError("enrollment_required");
    if ((options.level ?? "full") === "full" && auth.secondFactorEnabled && auth.aal < 2)
      throw new AppError("mfa_required");
    if (admin) {
      if (!auth.roles.includes("admin")) throw new AppError("forbidden");
      // Administrators must themselves use a second factor (SPEC §2 Admin).
      if (!auth.secondFactorEnabled || auth.aal < 2)
        throw new AppError("mfa_required", "Administrators must sign in with two-factor authentication.");
    }
    if (recent) sessions.assertRecentAuth(auth);
    request.auth = auth;
  };
}

/** The authenticated context set by requireAuth; a route without the guard calling this is a bug. */
export function authOf(request: FastifyRequest): AuthContext {
  if (request.auth === null) throw new AppError("unauthorized");
  return request.auth;
}
