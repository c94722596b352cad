import type { FastifyReply, FastifyRequest } from "fastify";
import { constantTimeEqual } from "../../crypto/constant-time.js";
import { randomToken } from "../../crypto/random.js";
import { AppError } from "../../errors.js";
import type { TokenPair } from "./session.service.js";

export const refreshCookie = "tessera_refresh";
export const csrfCookie = "tessera_csrf";

/**
 * Browser sessions: the refresh token lives in an httpOnly, SameSite=Strict cookie scoped to the auth
 * routes, with a readable CSRF cookie beside it for the double-submit check (SPEC §2 Tokens).
 */
export function setSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  refreshToken: string,
  maxAgeSeconds: number,
): void {
  const secure = request.protocol === "https";
  void reply.setCookie(refreshCookie, refreshToken, {
    httpOnly: true,
    sameSite: "strict",
    secure,
    path: "/api/auth",
    maxAge: maxAgeSeconds,
  });
  void reply.setCookie(csrfCookie, randomToken(128), {
    httpOnly: false,
    sameSite: "strict",
    secure,
    path: "/",
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookies(reply: FastifyReply): void {
  void reply.clearCookie(refreshCookie, { path: "/api/auth" });
  void reply.clearCookie(csrfCookie, { path: "/" });
}

/** A request that authenticates with the refresh cookie must echo the CSRF cookie in a header. */
export function assertCsrf(request: FastifyRequest): void {
  const cookie = request.cookies[csrfCookie];
  const header = request.headers["x-csrf-token"];
  if (cookie === undefined || typeof header !== "string" || !constantTimeEqual(cookie, header)) {
    throw new AppError("forbidden", "Missing or wrong CSRF token.");
  }
}

/** The refresh token of the cookie, once the CSRF header matches; unauthorized without the cookie. */
export function cookieRefreshToken(request: FastifyRequest, missingMessage?: string): string {
  const token = request.cookies[refreshCookie];
  if (token === undefined) throw new AppError("unauthorized", missingMessage);
  assertCsrf(request);
  return token;
}

/** Replies with a token pair and sets the browser's session cookies beside it (every route that logs in). */
export function sendTokens(
  request: FastifyRequest,
  reply: FastifyReply,
  tokens: TokenPair,
  maxAgeSeconds: number,
  extra: Record<string, unknown> = {},
): FastifyReply {
  setSessionCookies(request, reply, tokens.refresh_token, maxAgeSeconds);
  const { session_id: _sessionId, ...body } = tokens;
  return reply.send({ ...body, ...extra });
}
