import type { FastifyInstance } from "fastify";
import { decodeJwt } from "jose";
import { expect } from "vitest";
import type { FixedClock } from "../../src/clock.js";
import { decodeBase32 } from "../../src/otp/base32.js";
import { defaultTOTPParams, generateTOTP, verifyTOTP } from "../../src/otp/totp.js";
import type { TestApp } from "./app.js";
import { call, send, str, type Json, type Reply } from "./http.js";

/** Accounts in the states the suites start from, and the steps of a login. */

export const strongPassword = "correct horse battery staple";

let counter = 0;
/** A fresh, valid username per call, so tests in one suite never share an account or its lockout. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

export async function register(
  app: FastifyInstance,
  username: string,
  extra: Json = {},
): Promise<{ userId: string; accessToken: string; refreshToken: string; body: Json }> {
  const res = await call(app, "POST", "/api/auth/register", { body: { username, password: strongPassword, ...extra } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const user = res.body["user"] as Json;
  return {
    userId: str(user["id"]),
    accessToken: str(res.body["access_token"]),
    refreshToken: str(res.body["refresh_token"]),
    body: res.body,
  };
}

export async function login(
  app: FastifyInstance,
  username: string,
  password = strongPassword,
): Promise<{ status: number; body: Json }> {
  const res = await call(app, "POST", "/api/auth/login", { body: { username, password } });
  return { status: res.status, body: res.body };
}

/** A password login carrying cookies (a trusted device's). */
export async function passwordLogin(
  app: FastifyInstance,
  username: string,
  cookies: Record<string, string> = {},
): Promise<Reply> {
  return send(app, {
    method: "POST",
    url: "/api/auth/login",
    payload: { username, password: strongPassword },
    cookies,
  });
}

/** The code an authenticator app shows at the clock's current time (or `offsetSteps` away). */
export function totpCode(secret: string, clock: FixedClock, offsetSteps = 0): string {
  return generateTOTP(decodeBase32(secret), Math.floor(clock.now() / 1000) + offsetSteps * 30, defaultTOTPParams);
}

/** A six-digit code that is NOT accepted right now (outside the ±1 step window), varied by `seed`. */
export function wrongCode(secret: string, clock: FixedClock, seed = 0): string {
  const key = decodeBase32(secret);
  for (let n = seed; ; n += 1) {
    const candidate = String((n * 7919 + 13) % 1_000_000).padStart(6, "0");
    if (verifyTOTP(key, candidate, defaultTOTPParams, Math.floor(clock.now() / 1000)) === null) return candidate;
  }
}

/** Registers a user and turns two-factor on; the clock is moved to the next step so the next code is fresh. */
export async function enrolledUser(
  app: FastifyInstance,
  clock: FixedClock,
  username: string,
): Promise<{ userId: string; secret: string; recoveryCodes: string[]; accessToken: string; refreshToken: string }> {
  const { userId, accessToken } = await register(app, username);
  const setup = await call(app, "POST", "/api/auth/2fa/setup", { token: accessToken });
  expect(setup.status, JSON.stringify(setup.body)).toBe(200);
  const secret = str(setup.body["secret"]);
  const confirm = await call(app, "POST", "/api/auth/2fa/verify-setup", {
    token: accessToken,
    body: { code: totpCode(secret, clock) },
  });
  expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
  clock.advance(30);
  return {
    userId,
    secret,
    recoveryCodes: confirm.body["recovery_codes"] as string[],
    accessToken: str(confirm.body["access_token"]),
    refreshToken: str(confirm.body["refresh_token"]),
  };
}

/** The password step of a two-factor account: its login_token. */
export async function loginToken(app: FastifyInstance, username: string): Promise<string> {
  const res = await login(app, username);
  expect(res.status).toBe(200);
  expect(res.body["mfa_required"]).toBe(true);
  return str(res.body["login_token"]);
}

/** The second step of a login: POST /api/auth/2fa/login. */
export async function secondFactorLogin(app: FastifyInstance, body: Json): Promise<Reply> {
  return call(app, "POST", "/api/auth/2fa/login", { body });
}

/** Password, then a TOTP code: the access and refresh tokens of a fresh aal-2 session. */
export async function fullLogin(
  t: TestApp,
  username: string,
  secret: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const token = await loginToken(t.app, username);
  const res = await secondFactorLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { accessToken: str(res.body["access_token"]), refreshToken: str(res.body["refresh_token"]) };
}

export function claimsOf(accessToken: string): { sid: string; amr: unknown; aal: unknown; sub: string } {
  const claims = decodeJwt(accessToken);
  return { sid: String(claims["sid"]), amr: claims["amr"], aal: claims["aal"], sub: String(claims.sub) };
}

export function setCookieNames(res: Reply): string[] {
  return res.raw.cookies.map((c) => c.name);
}

export function deviceCookieOf(res: Reply): string | undefined {
  return res.raw.cookies.find((c) => c.name === "tessera_device")?.value;
}

/** An attacker that only ever uses a login token five times, so the account lock alone stops it. */
export function guesser(t: TestApp, username: string): { guess(code: string): Promise<Reply> } {
  let token: string | null = null;
  let uses = 0;
  let issuedAt = 0;
  return {
    async guess(code) {
      if (token === null || uses >= 5 || t.clock.now() - issuedAt > 60_000) {
        token = await loginToken(t.app, username);
        uses = 0;
        issuedAt = t.clock.now();
      }
      uses += 1;
      return secondFactorLogin(t.app, { login_token: token, code });
    },
  };
}

/** A two-factor login with remember_device: its reply and the device cookie it set. */
export async function rememberedLogin(
  t: TestApp,
  username: string,
  secret: string,
): Promise<{ reply: Reply; cookie: string }> {
  const reply = await send(t.app, {
    method: "POST",
    url: "/api/auth/2fa/login",
    payload: { login_token: await loginToken(t.app, username), code: totpCode(secret, t.clock), remember_device: true },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const cookie = deviceCookieOf(reply);
  expect(cookie).toBeDefined();
  return { reply, cookie: cookie ?? "" };
}

/** A first factor answered with the login challenge, and no token. */
export function expectChallenge(res: Reply): void {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toMatchObject({ mfa_required: true });
  expect(res.body).not.toHaveProperty("access_token");
}

/** A first factor answered with tokens: the access token. */
export function expectTokens(res: Reply): string {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).not.toHaveProperty("mfa_required");
  return str(res.body["access_token"]);
}
