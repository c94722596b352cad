import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { decodeJwt } from "jose";
import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import { expect } from "vitest";
import type { FixedClock } from "../../src/clock.js";
import { decodeBase32 } from "../../src/otp/base32.js";
import { defaultTOTPParams, verifyTOTP } from "../../src/otp/totp.js";
import { call, errorCode, loginToken, str, strongPassword, totpCode, type Json } from "../helpers/api.js";
import type { TestApp } from "../helpers/build-test-app.js";

/** Shared by the two-factor suites: small request helpers on top of test/helpers/api.ts. */

// jsqr is CommonJS with `export default` types: under NodeNext the default import is module.exports,
// whose `default` property is the decoder function (both at runtime and in its typings).
const jsQR = jsQRModule.default;

let counter = 0;
/** A fresh, valid username per call, so tests in one suite never share an account or its lockout. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

export interface Reply {
  status: number;
  body: Json;
  headers: LightMyRequestResponse["headers"];
  raw: LightMyRequestResponse;
}

/** `app.inject` with JSON parsing, for callers that need cookies or a remote address. */
export async function send(app: FastifyInstance, options: InjectOptions): Promise<Reply> {
  const raw = await app.inject(options);
  let body: Json = {};
  if (raw.body !== "" && String(raw.headers["content-type"] ?? "").includes("json")) body = raw.json<Json>();
  return { status: raw.statusCode, body, headers: raw.headers, raw };
}

export async function mfaLogin(app: FastifyInstance, body: Json): Promise<Reply> {
  return call(app, "POST", "/api/auth/2fa/login", { body });
}

/** Password, then a TOTP code: the access and refresh tokens of a fresh aal-2 session. */
export async function fullLogin(
  t: TestApp,
  username: string,
  secret: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const token = await loginToken(t.app, username);
  const res = await mfaLogin(t.app, { login_token: token, code: totpCode(secret, t.clock) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { accessToken: str(res.body["access_token"]), refreshToken: str(res.body["refresh_token"]) };
}

/** A six-digit code that is NOT accepted right now (outside the ±1 step window), varied by `seed`. */
export function wrongCode(secret: string, clock: FixedClock, seed = 0): string {
  const key = decodeBase32(secret);
  for (let n = seed; ; n += 1) {
    const candidate = String((n * 7919 + 13) % 1_000_000).padStart(6, "0");
    if (verifyTOTP(key, candidate, defaultTOTPParams, Math.floor(clock.now() / 1000)) === null) return candidate;
  }
}

export function expectError(res: { status: number; body: Json }, status: number, code: string): void {
  expect({ status: res.status, code: errorCode(res.body) }, JSON.stringify(res.body)).toEqual({ status, code });
}

export function claimsOf(accessToken: string): { sid: string; amr: unknown; aal: unknown; sub: string } {
  const claims = decodeJwt(accessToken);
  return { sid: String(claims["sid"]), amr: claims["amr"], aal: claims["aal"], sub: String(claims.sub) };
}

/** Decodes a PNG with independent libraries (pngjs + jsQR), not with the server's own QR code. */
export function decodeQRPng(png: Buffer): string {
  const image = PNG.sync.read(png);
  const result = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  expect(result, "the PNG holds a readable QR code").not.toBeNull();
  return result?.data ?? "";
}

export function pngFromDataUrl(dataUrl: string): Buffer {
  const prefix = "data:image/png;base64,";
  expect(dataUrl.startsWith(prefix)).toBe(true);
  return Buffer.from(dataUrl.slice(prefix.length), "base64");
}

export function setCookieNames(res: Reply): string[] {
  return res.raw.cookies.map((c) => c.name);
}

export function deviceCookieOf(res: Reply): string | undefined {
  return res.raw.cookies.find((c) => c.name === "tessera_device")?.value;
}

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

/** Row counts of the user's second-factor material. */
export async function mfaRows(
  t: TestApp,
  userId: string,
): Promise<{ credentials: number; recoveryCodes: number; activeDevices: number }> {
  const credentials = await t.db.selectFrom("totp_credential").select("id").where("user_id", "=", userId).execute();
  const codes = await t.db.selectFrom("recovery_code").select("id").where("user_id", "=", userId).execute();
  const devices = await t.db
    .selectFrom("trusted_device")
    .select("id")
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .execute();
  return { credentials: credentials.length, recoveryCodes: codes.length, activeDevices: devices.length };
}

export async function lockState(
  t: TestApp,
  userId: string,
): Promise<{ failed: number; consecutive: number; lockedUntil: number | null; lockouts: number }> {
  const row = await t.db
    .selectFrom("user")
    .select(["mfa_failed_count", "mfa_consecutive_failures", "mfa_locked_until", "mfa_lockouts"])
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  return {
    failed: Number(row.mfa_failed_count),
    consecutive: Number(row.mfa_consecutive_failures),
    lockedUntil: row.mfa_locked_until === null ? null : Number(row.mfa_locked_until),
    lockouts: Number(row.mfa_lockouts),
  };
}

export { strongPassword };
