import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import type { FixedClock } from "../../src/clock.js";
import { decodeBase32 } from "../../src/otp/base32.js";
import { defaultTOTPParams, generateTOTP } from "../../src/otp/totp.js";

export interface Json {
  [key: string]: unknown;
}

export const strongPassword = "correct horse battery staple";

export async function call(
  app: FastifyInstance,
  method: "GET" | "POST" | "DELETE",
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json; headers: LightMyRequestResponse["headers"]; raw: LightMyRequestResponse }> {
  const response = await app.inject({
    method,
    url,
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { payload: options.body as object }),
  });
  let body: Json = {};
  if (response.body !== "" && (response.headers["content-type"] ?? "").toString().includes("json"))
    body = response.json<Json>();
  return { status: response.statusCode, body, headers: response.headers, raw: response };
}

export function str(value: unknown): string {
  expect(typeof value).toBe("string");
  return typeof value === "string" ? value : "";
}

export function errorCode(body: Json): string | undefined {
  const error = body["error"];
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
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

/** The code an authenticator app shows at the clock's current time (or `offsetSteps` away). */
export function totpCode(secret: string, clock: FixedClock, offsetSteps = 0): string {
  return generateTOTP(decodeBase32(secret), Math.floor(clock.now() / 1000) + offsetSteps * 30, defaultTOTPParams);
}

/** Registers a user and turns 2FA on; the clock is moved to the next step so the next code is fresh. */
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

export async function loginToken(app: FastifyInstance, username: string): Promise<string> {
  const res = await login(app, username);
  expect(res.status).toBe(200);
  expect(res.body["mfa_required"]).toBe(true);
  return str(res.body["login_token"]);
}
