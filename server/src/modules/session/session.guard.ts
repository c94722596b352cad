import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { AppError } from "../../errors.js";
import type { AuthContext, SessionService } from "./session.service.js";

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
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
  return match?.[1] ?? null;
}

/** A per-route preHandler that throws typed errors (STYLE S12): never a check on the URL. */
export function requireAuth(sessions: SessionService, options: GuardOptions = {}): preHandlerAsyncHookHandler {
  return async function guard(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request);
    const auth = token === null ? null : await sessions.authenticate(token);
    if (auth === null) throw new AppError("unauthorized");
    if ((options.level ?? "full") === "full" && auth.secondFactorEnabled && auth.aal < 2)
      throw new AppError("mfa_required");
    if (options.role === "admin") {
      if (!auth.roles.includes("admin")) throw new AppError("forbidden");
      // Administrators must themselves use a second factor (SPEC §2 Admin).
      if (!auth.secondFactorEnabled || auth.aal < 2)
        throw new AppError("mfa_required", "Administrators must sign in with two-factor authentication.");
    }
    request.auth = auth;
  };
}

/** The authenticated context set by requireAuth; a route without the guard calling this is a bug. */
export function authOf(request: FastifyRequest): AuthContext {
  if (request.auth === null) throw new AppError("unauthorized");
  return request.auth;
}
