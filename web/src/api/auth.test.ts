import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { errorResponse, expectedHeaders, jsonResponse, mockFetch, signedInBrowser } from "../test-utils/fetch-mock";
import { login, loginSecondFactor, logout, reauthenticate, refreshTokens, register } from "./auth";

const tokens = { access_token: "a", refresh_token: "r", token_type: "Bearer", expires_in: 900 };
const user = {
  id: "u1",
  username: "alice",
  email: null,
  email_verified: false,
  mfa_enabled: false,
  created_at: "2025-01-01T00:00:00Z",
  last_login_at: null,
  previous_login_at: null,
  roles: [],
};

beforeEach(signedInBrowser);
afterEach(() => vi.unstubAllGlobals());

describe("auth api", () => {
  it("register posts the new account without a Bearer token", async () => {
    const fetch = mockFetch(jsonResponse(201, { ...tokens, user }));
    const reply = await register({
      username: "alice",
      password: "correct horse",
      email: "a@example.com",
      enable_mfa: true,
    });
    expect(reply.user.username).toBe("alice");
    const call = fetch.single();
    expect(call).toMatchObject({
      method: "POST",
      url: "/api/auth/register",
      body: { username: "alice", password: "correct horse", email: "a@example.com", enable_mfa: true },
    });
    expect(call.headers).toEqual(expectedHeaders(false, true));
  });

  it("register surfaces the password reasons of a 422", async () => {
    mockFetch(
      errorResponse(422, "validation_failed", {
        details: [{ field: "password", message: "is a commonly used password" }],
      }),
    );
    const error = await register({ username: "alice", password: "password1" }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "validation_failed" });
  });

  it("register maps a taken username to user_exists", async () => {
    mockFetch(errorResponse(409, "user_exists"));
    await expect(register({ username: "alice", password: "x" })).rejects.toMatchObject({
      status: 409,
      code: "user_exists",
      message: "That username is already taken.",
    });
  });

  it("login posts username and password and returns tokens", async () => {
    const fetch = mockFetch(jsonResponse(200, { ...tokens, user }));
    await expect(login("alice@example.com", "pw")).resolves.toMatchObject({ access_token: "a" });
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/login",
      body: { username: "alice@example.com", password: "pw" },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(false, true));
  });

  it("login returns the two-factor challenge as is", async () => {
    const challenge = {
      mfa_required: true,
      "2fa_required": true,
      login_token: "lt",
      methods: ["totp", "recovery_code"],
      expires_in: 300,
    };
    mockFetch(jsonResponse(200, challenge));
    await expect(login("alice", "pw")).resolves.toEqual(challenge);
  });

  it("login maps wrong credentials to invalid_credentials", async () => {
    mockFetch(errorResponse(401, "invalid_credentials"));
    await expect(login("alice", "nope")).rejects.toMatchObject({ status: 401, code: "invalid_credentials" });
  });

  it("the 2FA step sends a TOTP code and remember_device", async () => {
    const fetch = mockFetch(jsonResponse(200, tokens));
    await loginSecondFactor("lt", { code: "123456" }, true);
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/2fa/login",
      body: { login_token: "lt", code: "123456", remember_device: true },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(false, true));
  });

  it("the 2FA step sends a recovery code and no remember_device by default", async () => {
    const fetch = mockFetch(jsonResponse(200, tokens));
    await loginSecondFactor("lt", { recovery_code: "ABCD-EFGH" });
    expect(fetch.single().body).toEqual({ login_token: "lt", recovery_code: "ABCD-EFGH" });
  });

  it.each([["invalid_otp"], ["otp_replayed"], ["login_token_expired"]])("the 2FA step maps %s", async (code) => {
    mockFetch(errorResponse(401, code));
    await expect(loginSecondFactor("lt", { code: "000000" })).rejects.toMatchObject({ code });
  });

  it("refresh with no argument posts {} so the server reads its cookie, with the CSRF header", async () => {
    const fetch = mockFetch(jsonResponse(200, tokens));
    await expect(refreshTokens()).resolves.toEqual(tokens);
    expect(fetch.single()).toMatchObject({ method: "POST", url: "/api/auth/token/refresh", body: {} });
    expect(fetch.single().headers).toEqual(expectedHeaders(false, true));
  });

  it("refresh can send an explicit refresh token", async () => {
    const fetch = mockFetch(jsonResponse(200, tokens));
    await refreshTokens("rt");
    expect(fetch.single().body).toEqual({ refresh_token: "rt" });
  });

  it("logout posts with the Bearer token and accepts 204", async () => {
    const fetch = mockFetch(new Response(null, { status: 204 }));
    await expect(logout()).resolves.toBeUndefined();
    expect(fetch.single()).toMatchObject({ method: "POST", url: "/api/auth/logout" });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it("reauthenticate posts the password, and the code only when there is one, with the Bearer token", async () => {
    const fetch = mockFetch(jsonResponse(200, tokens));
    await expect(reauthenticate("my password", "123456")).resolves.toEqual(tokens);
    await reauthenticate("my password", "");
    await reauthenticate("my password");
    expect(fetch.calls.map((call) => call.body)).toEqual([
      { password: "my password", code: "123456" },
      { password: "my password" },
      { password: "my password" },
    ]);
    expect(fetch.calls[0]).toMatchObject({ method: "POST", url: "/api/auth/reauth" });
    expect(fetch.calls[0]?.headers).toEqual(expectedHeaders(true, true));
  });

  it("register reads a reply that signs nobody in (verification_required)", async () => {
    mockFetch(jsonResponse(201, { user, verification_required: true }));
    const reply = await register({ username: "alice", password: "correct horse", email: "a@example.com" });
    expect(reply.verification_required).toBe(true);
    expect(reply).not.toHaveProperty("access_token");
  });
});
