import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { errorResponse, expectedHeaders, jsonResponse, mockFetch, signedInBrowser } from "../test-utils/fetch-mock";
import {
  changeEmail,
  changePassword,
  confirmDeletion,
  deleteAccount,
  getMe,
  listSecurityEvents,
  requestDeletion,
} from "./user";

beforeEach(signedInBrowser);
afterEach(() => vi.unstubAllGlobals());
const noContent = (): Response => new Response(null, { status: 204 });

describe("user api", () => {
  it("getMe reads the profile with the Bearer token", async () => {
    const me = {
      id: "u1",
      username: "alice",
      email: "a@example.com",
      email_verified: true,
      mfa_enabled: true,
      created_at: "2025-01-01T00:00:00Z",
      last_login_at: null,
      previous_login_at: null,
      roles: ["admin"],
    };
    const fetch = mockFetch(jsonResponse(200, me));
    await expect(getMe()).resolves.toEqual(me);
    expect(fetch.single()).toMatchObject({ method: "GET", url: "/api/user/me", body: undefined });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, false));
  });

  it("changePassword sends both passwords and the code when given", async () => {
    const fetch = mockFetch(noContent(), noContent());
    await changePassword("old", "new-password", "123456");
    await changePassword("old", "new-password");
    expect(fetch.calls[0]).toMatchObject({
      method: "POST",
      url: "/api/user/password",
      body: { current_password: "old", new_password: "new-password", code: "123456" },
    });
    expect(fetch.calls[1]?.body).toEqual({ current_password: "old", new_password: "new-password" });
    expect(fetch.calls[0]?.headers).toEqual(expectedHeaders(true, true));
  });

  it("changePassword maps a wrong current password", async () => {
    mockFetch(errorResponse(401, "invalid_credentials"));
    await expect(changePassword("bad", "new")).rejects.toMatchObject({ code: "invalid_credentials" });
  });

  it("changeEmail posts the address and password and accepts 202", async () => {
    const fetch = mockFetch(jsonResponse(202, { status: "accepted" }));
    await changeEmail("new@example.com", "pw");
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/user/email",
      body: { email: "new@example.com", password: "pw" },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it("deleteAccount sends DELETE with password and code", async () => {
    const fetch = mockFetch(noContent());
    await deleteAccount("pw", "123456");
    expect(fetch.single()).toMatchObject({
      method: "DELETE",
      url: "/api/user",
      body: { password: "pw", code: "123456" },
    });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it("deleteAccount and changePassword send a passkey assertion as webauthn instead of a code", async () => {
    const assertion = {
      id: "cred",
      rawId: "cred",
      type: "public-key" as const,
      clientExtensionResults: {},
      response: { clientDataJSON: "cd", authenticatorData: "ad", signature: "sig" },
    };
    const fetch = mockFetch(noContent(), noContent());
    await deleteAccount("pw", assertion);
    await changePassword("old", "new-password", assertion);
    expect(fetch.calls.map((call) => call.body)).toEqual([
      { password: "pw", webauthn: assertion },
      { current_password: "old", new_password: "new-password", webauthn: assertion },
    ]);
  });

  it("deleteAccount leaves out an empty code", async () => {
    const fetch = mockFetch(noContent());
    await deleteAccount("pw", "");
    expect(fetch.single().body).toEqual({ password: "pw" });
  });

  it("requestDeletion posts and accepts 202", async () => {
    const fetch = mockFetch(jsonResponse(202, { status: "accepted" }));
    await requestDeletion();
    expect(fetch.single()).toMatchObject({ method: "POST", url: "/api/user/delete-request", body: {} });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it("confirmDeletion posts the emailed token", async () => {
    const fetch = mockFetch(noContent());
    await confirmDeletion("tok");
    expect(fetch.single()).toMatchObject({ method: "POST", url: "/api/user/delete-confirm", body: { token: "tok" } });
  });

  it("confirmDeletion maps a used link to invalid_token", async () => {
    mockFetch(errorResponse(400, "invalid_token"));
    await expect(confirmDeletion("used")).rejects.toMatchObject({ status: 400, code: "invalid_token" });
  });

  it("listSecurityEvents unwraps the events", async () => {
    const events = [
      { id: "e1", type: "login_succeeded", ip: "127.0.0.1", user_agent: "UA", created_at: "2025-01-01T00:00:00Z" },
    ];
    const fetch = mockFetch(jsonResponse(200, { events }));
    await expect(listSecurityEvents()).resolves.toEqual(events);
    expect(fetch.single()).toMatchObject({ method: "GET", url: "/api/user/audit" });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, false));
  });
});
