import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { errorResponse, expectedHeaders, jsonResponse, mockFetch, signedInBrowser } from "../test-utils/fetch-mock";
import {
  disableSecondFactor,
  getSecondFactorStatus,
  regenerateRecoveryCodes,
  startSecondFactorSetup,
  verifySecondFactorSetup,
} from "./second-factor";

beforeEach(signedInBrowser);
afterEach(() => vi.unstubAllGlobals());

describe("two-factor api", () => {
  it("startSecondFactorSetup posts as the signed-in user and returns the QR and secret", async () => {
    const setup = {
      secret: "JBSWY3DPEHPK3PXP",
      otpauth_url: "otpauth://totp/Tessera:alice?secret=JBSWY3DPEHPK3PXP",
      qr_png: "data:image/png;base64,AAAA",
      qr_svg: "<svg/>",
      qr_base64: "data:image/png;base64,AAAA",
      expires_in: 600,
    };
    const fetch = mockFetch(jsonResponse(200, setup));
    await expect(startSecondFactorSetup()).resolves.toEqual(setup);
    expect(fetch.single()).toMatchObject({ method: "POST", url: "/api/auth/2fa/setup", body: {} });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it("startSecondFactorSetup maps mfa_already_enabled", async () => {
    mockFetch(errorResponse(409, "mfa_already_enabled"));
    await expect(startSecondFactorSetup()).rejects.toMatchObject({ status: 409, code: "mfa_already_enabled" });
  });

  it("verifySecondFactorSetup sends the code and returns recovery codes with new tokens", async () => {
    const reply = {
      mfa_enabled: true,
      recovery_codes: Array.from({ length: 10 }, (_, i) => `code-${i}`),
      access_token: "a2",
      refresh_token: "r2",
      token_type: "Bearer",
      expires_in: 900,
    };
    const fetch = mockFetch(jsonResponse(200, reply));
    await expect(verifySecondFactorSetup("123456")).resolves.toEqual(reply);
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/2fa/verify-setup",
      body: { code: "123456" },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it.each([
    ["invalid_otp", 401],
    ["mfa_setup_expired", 409],
  ])("verifySecondFactorSetup maps %s", async (code, status) => {
    mockFetch(errorResponse(status, code));
    await expect(verifySecondFactorSetup("000000")).rejects.toMatchObject({ status, code });
  });

  it("disableSecondFactor sends password and code", async () => {
    const fetch = mockFetch(jsonResponse(200, { mfa_enabled: false }));
    await expect(disableSecondFactor("pw", "ABCD-EFGH")).resolves.toEqual({ mfa_enabled: false });
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/2fa/disable",
      body: { password: "pw", code: "ABCD-EFGH" },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  const assertion = {
    id: "cred",
    rawId: "cred",
    type: "public-key" as const,
    clientExtensionResults: {},
    response: { clientDataJSON: "cd", authenticatorData: "ad", signature: "sig" },
  };

  it("disableSecondFactor and recovery-codes send a passkey assertion as webauthn, and no code", async () => {
    const fetch = mockFetch(jsonResponse(200, { mfa_enabled: false }), jsonResponse(200, { recovery_codes: ["a"] }));
    await disableSecondFactor("pw", assertion);
    await regenerateRecoveryCodes("pw", assertion);
    expect(fetch.calls.map((call) => call.body)).toEqual([
      { password: "pw", webauthn: assertion },
      { password: "pw", webauthn: assertion },
    ]);
  });

  it("disableSecondFactor maps mfa_required for a session without a second factor", async () => {
    mockFetch(errorResponse(401, "mfa_required"));
    await expect(disableSecondFactor("pw", "123456")).rejects.toMatchObject({ code: "mfa_required" });
  });

  it("recovery-codes sends password and code and returns the new set", async () => {
    const fetch = mockFetch(jsonResponse(200, { recovery_codes: ["a", "b"] }));
    await expect(regenerateRecoveryCodes("pw", "123456")).resolves.toEqual({ recovery_codes: ["a", "b"] });
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/2fa/recovery-codes",
      body: { password: "pw", code: "123456" },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it("getSecondFactorStatus reads how many recovery codes are left, as the signed-in user", async () => {
    const fetch = mockFetch(jsonResponse(200, { mfa_enabled: true, recovery_codes_remaining: 3 }));
    await expect(getSecondFactorStatus()).resolves.toEqual({ mfa_enabled: true, recovery_codes_remaining: 3 });
    expect(fetch.single()).toMatchObject({ method: "GET", url: "/api/auth/2fa/status" });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, false));
  });
});
