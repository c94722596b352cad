import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  errorResponse,
  expectedHeaders,
  jsonResponse,
  mockFetch,
  signedInBrowser,
  useAccessToken,
} from "../test-utils/fetch-mock";
import {
  listDevMail,
  requestMagicLink,
  requestPasswordReset,
  resetPassword,
  verifyEmail,
  verifyMagicLink,
} from "./email";

beforeEach(signedInBrowser);
afterEach(() => vi.unstubAllGlobals());

describe("email api", () => {
  it("verifyEmail posts the token", async () => {
    const fetch = mockFetch(jsonResponse(200, { email_verified: true }));
    await expect(verifyEmail("tok")).resolves.toEqual({ email_verified: true });
    expect(fetch.single()).toMatchObject({ method: "POST", url: "/api/auth/email/verify", body: { token: "tok" } });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it("verifyEmail works signed out, without Authorization", async () => {
    useAccessToken(null);
    const fetch = mockFetch(jsonResponse(200, { email_verified: true }));
    await verifyEmail("tok");
    expect(fetch.single().headers.authorization).toBeUndefined();
  });

  it.each([
    ["verifyEmail", () => verifyEmail("bad")],
    ["verifyMagicLink", () => verifyMagicLink("bad")],
    ["resetPassword", () => resetPassword("bad", "new-password")],
  ])("%s maps a bad link to invalid_token", async (_name, call) => {
    mockFetch(errorResponse(400, "invalid_token"));
    await expect(call()).rejects.toMatchObject({
      status: 400,
      code: "invalid_token",
      message: expect.stringMatching(/invalid, already used or expired/),
    });
  });

  it("requestMagicLink posts the email and accepts 202", async () => {
    const fetch = mockFetch(jsonResponse(202, { status: "accepted" }));
    await requestMagicLink("a@example.com");
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/magic-link",
      body: { email: "a@example.com" },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(false, true));
  });

  it("verifyMagicLink returns tokens or the two-factor challenge", async () => {
    const challenge = { mfa_required: true, login_token: "lt", methods: ["totp"], expires_in: 300 };
    const fetch = mockFetch(jsonResponse(200, challenge));
    await expect(verifyMagicLink("tok")).resolves.toEqual(challenge);
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/magic-link/verify",
      body: { token: "tok" },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(false, true));
  });

  it("requestPasswordReset posts the email and accepts 202", async () => {
    const fetch = mockFetch(new Response(null, { status: 202 }));
    await requestPasswordReset("a@example.com");
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/password/forgot",
      body: { email: "a@example.com" },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(false, true));
  });

  it("resetPassword posts the token and new password", async () => {
    const fetch = mockFetch(jsonResponse(200, { password_reset: true }));
    await expect(resetPassword("tok", "a new password")).resolves.toEqual({ password_reset: true });
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/password/reset",
      body: { token: "tok", new_password: "a new password" },
    });
  });

  it("resetPassword passes the password reasons of a 422 through", async () => {
    mockFetch(errorResponse(422, "validation_failed", { details: [{ field: "new_password", message: "too common" }] }));
    const error = await resetPassword("tok", "password").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "validation_failed" });
  });

  it("listDevMail unwraps the messages", async () => {
    const messages = [
      {
        id: "m1",
        to: "a@example.com",
        subject: "Verify",
        text: "http://x/verify-email?token=t",
        html: null,
        sent_at: "2025-01-01T00:00:00Z",
      },
    ];
    const fetch = mockFetch(jsonResponse(200, { messages }));
    await expect(listDevMail()).resolves.toEqual(messages);
    expect(fetch.single()).toMatchObject({ method: "GET", url: "/dev/mail" });
    expect(fetch.single().headers).toEqual(expectedHeaders(false, false));
  });

  it("listDevMail fails with not_found in production", async () => {
    mockFetch(errorResponse(404, "not_found"));
    await expect(listDevMail()).rejects.toMatchObject({ code: "not_found" });
  });
});
