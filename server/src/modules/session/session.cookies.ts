import { createHmac } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { constantTimeEqual } from "../../crypto/constant-time.js";
import { randomToken } from "../../crypto/random.js";
import { AppError } from "../../errors.js";
import type { AuthContext, RefreshCredential, SessionService, TokenPair } from "./session.types.js";

export const refreshCookie = "tessera_refresh";
export const csrfCookie = "tessera_csrf";
/** The site-wide browser session (SPEC "Other applications sign in through Tessera"). */
export const siteSessionCookie = "tessera_session";

declare module "fastify" {
  interface FastifyInstance {
    /** COOKIE_DOMAIN: the Domain of the site-wide session cookie; null for a host-only cookie. */
    cookieDomain: string | null;
    /** The site-wide cookie's MAC key: its own (derived from TESSERA_SECRET_KEY), not the key of the CSRF token. */
    siteCookieKey: Buffer;
    /** PUBLIC_URL is https: cookies are Secure even when a TLS-terminating proxy speaks plain HTTP to us. */
    secureCookies: boolean;
  }
}

/** Whether a cookie set in reply to `request` is Secure: PUBLIC_URL or the request (from TRUST_PROXY) is https. */
export function secureCookie(request: FastifyRequest): boolean {
  return request.server.secureCookies || request.protocol === "https";
}

/** The site-wide cookie's value: `sid.MAC`, the MAC under the site cookie's own key and context. */
export function siteCookieValue(key: Buffer, sessionId: string): string {
  return `${sessionId}.${createHmac("sha256", key).update(`tessera_session\n${sessionId}`).digest("base64url")}`;
}

/** The session id of a site-wide cookie made by siteCookieValue under `key` (compared in constant time), or null. */
export function siteCookieSessionId(key: Buffer, value: string): string | null {
  const dot = value.lastIndexOf(".");
  if (dot <= 0) return null;
  const sessionId = value.slice(0, dot);
  return constantTimeEqual(value, siteCookieValue(key, sessionId)) ? sessionId : null;
}

/*
 * Browser sessions: the refresh token lives in an httpOnly, SameSite=Strict cookie scoped to the auth
 * routes, with a readable CSRF cookie beside it for the double-submit check (SPEC §2 Tokens).
 *
 * The CSRF value is a signed double-submit token bound to its session (OWASP CSRF cheat sheet,
 * "signed double-submit cookie"): `sid.nonce.HMAC(cookie key, sid.nonce)`, signed and checked in
 * constant time by @fastify/cookie with the app's cookie key. A cookie planted by someone else (a
 * sibling subdomain can set cookies here) is refused: a forged one fails the MAC, and one minted for
 * the attacker's own session names another session than the refresh cookie's.
 */

/** The CSRF value of a session: its id and 128 random bits, signed. */
function csrfValueFor(sessionId: string): string {
  return `${sessionId}.${randomToken(128)}`;
}

export function setSessionCookies(
  request: FastifyRequest,
  reply: FastifyReply,
  tokens: Pick<TokenPair, "refresh_token" | "session_id">,
  maxAgeSeconds: number,
): void {
  const secure = secureCookie(request);
  void reply.setCookie(refreshCookie, tokens.refresh_token, {
    httpOnly: true,
    sameSite: "strict",
    secure,
    path: "/api/auth",
    maxAge: maxAgeSeconds,
  });
  void reply.setCookie(csrfCookie, csrfValueFor(tokens.session_id), {
    httpOnly: false,
    sameSite: "strict",
    secure,
    path: "/",
    maxAge: maxAgeSeconds,
    signed: true,
  });
  void reply.setCookie(siteSessionCookie, siteCookieValue(reply.server.siteCookieKey, tokens.session_id), {
    httpOnly: true,
    sameSite: "lax",
    secure,
    path: "/",
    maxAge: maxAgeSeconds,
    ...siteDomain(reply),
  });
}

function siteDomain(reply: FastifyReply): { domain?: string } {
  const domain = reply.server.cookieDomain;
  return domain === null ? {} : { domain };
}

export function clearSessionCookies(reply: FastifyReply): void {
  void reply.clearCookie(refreshCookie, { path: "/api/auth" });
  void reply.clearCookie(csrfCookie, { path: "/" });
  void reply.clearCookie(siteSessionCookie, { path: "/", ...siteDomain(reply) });
}

/**
 * The live session of the site-wide cookie (forward-auth and the OIDC provider's sign-in): the session id
 * under our signature (`sid.HMAC(site cookie key, sid)`, checked in constant time), looked up
 * like an access token's (cached on a SQLite file, one indexed query elsewhere). null when there is no
 * cookie, a forged or altered one, or a session that is revoked, expired, locked or unverified.
 *
 * The cookie only reads who is signed in: it is SameSite=Lax and has no CSRF token, so no state-changing
 * API route accepts it.
 */
export async function siteSession(request: FastifyRequest, sessions: SessionService): Promise<AuthContext | null> {
  const raw = request.cookies[siteSessionCookie];
  if (raw === undefined) return null;
  // Its own key: a CSRF token (readable by scripts) is no site cookie, and the site cookie, which every site
  // under COOKIE_DOMAIN receives, is no CSRF token.
  const sessionId = siteCookieSessionId(request.server.siteCookieKey, raw);
  return sessionId === null ? null : sessions.authenticateSession(sessionId);
}

/**
 * A request that authenticates with the refresh cookie must echo the CSRF cookie in a header, and the
 * value must carry our signature: returns the session it is bound to, which the caller matches with the
 * refresh token's (SessionService.refresh and logout).
 */
export function csrfSessionId(request: FastifyRequest): string {
  const cookie = request.cookies[csrfCookie];
  const header = request.headers["x-csrf-token"];
  const refused = new AppError("forbidden", "Missing or wrong CSRF token.");
  if (cookie === undefined || typeof header !== "string" || !constantTimeEqual(cookie, header)) throw refused;
  const unsigned = request.unsignCookie(header);
  const sessionId = unsigned.valid && unsigned.value !== null ? unsigned.value.split(".")[0] : undefined;
  if (sessionId === undefined || sessionId === "") throw refused;
  return sessionId;
}

/**
 * The session the browser's signed CSRF cookie names, or null (none, or not signed by us). It proves only that
 * this browser holds that session's cookie: enough to end the session, never to act in its name.
 */
export function cookieSessionId(request: FastifyRequest): string | null {
  const cookie = request.cookies[csrfCookie];
  if (cookie === undefined) return null;
  const unsigned = request.unsignCookie(cookie);
  const sessionId = unsigned.valid && unsigned.value !== null ? unsigned.value.split(".")[0] : undefined;
  return sessionId === undefined || sessionId === "" ? null : sessionId;
}

/** The refresh token of the cookie and the session its CSRF token is bound to; unauthorized without the cookie. */
export function cookieRefreshCredential(request: FastifyRequest, missingMessage?: string): RefreshCredential {
  const refreshToken = request.cookies[refreshCookie];
  if (refreshToken === undefined) throw new AppError("unauthorized", missingMessage);
  return { refreshToken, sessionId: csrfSessionId(request) };
}

/** Replies with a token pair and sets the browser's session cookies beside it (every route that logs in). */
export function sendTokens(
  request: FastifyRequest,
  reply: FastifyReply,
  tokens: TokenPair,
  maxAgeSeconds: number,
  extra: Record<string, unknown> = {},
): FastifyReply {
  setSessionCookies(request, reply, tokens, maxAgeSeconds);
  const { session_id: _sessionId, ...body } = tokens;
  return reply.send({ ...body, ...extra });
}
