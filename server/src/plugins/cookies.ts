import type { FastifyReply, FastifyRequest } from "fastify";
import { constantTimeEqual } from "../crypto/constant-time.js";
import { randomToken } from "../crypto/random.js";
import { AppError } from "../errors.js";
import type { LoginResult } from "../modules/auth/auth.service.js";
import type { TokenPair } from "../modules/session/session.service.js";

export const refreshCookie = "tessera_refresh";
export const csrfCookie = "tessera_csrf";
export const deviceCookie = "tessera_device";

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

export function setDeviceCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  value: string,
  maxAgeSeconds: number,
): void {
  void reply.setCookie(deviceCookie, value, {
    httpOnly: true,
    sameSite: "strict",
    secure: request.protocol === "https",
    path: "/api/auth",
    maxAge: maxAgeSeconds,
    signed: true,
  });
}

/** The device token from the signed cookie, or undefined when it is missing or its signature is wrong. */
export function readDeviceCookie(request: FastifyRequest): string | undefined {
  const raw = request.cookies[deviceCookie];
  if (raw === undefined) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value !== null ? unsigned.value : undefined;
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

/** The reply to any first factor: tokens, or the second-factor challenge (which sets no cookie). */
export function sendLoginResult(
  request: FastifyRequest,
  reply: FastifyReply,
  result: LoginResult,
  maxAgeSeconds: number,
): FastifyReply {
  if (result.kind === "challenge") return reply.send(result.challenge);
  return sendTokens(request, reply, result.tokens, maxAgeSeconds, { user: result.user });
}
