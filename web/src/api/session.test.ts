import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { errorResponse, expectedHeaders, jsonResponse, mockFetch, signedInBrowser } from "../test-utils/fetch-mock";
import { listSessions, revokeSession, revokeTrustedDevice } from "./session";

beforeEach(signedInBrowser);
afterEach(() => vi.unstubAllGlobals());

describe("session api", () => {
  it("listSessions returns sessions and trusted devices", async () => {
    const list = {
      sessions: [
        {
          id: "s1",
          created_at: "2025-01-01T00:00:00Z",
          last_used_at: null,
          ip: "127.0.0.1",
          user_agent: "UA",
          aal: 2,
          amr: ["pwd", "otp"],
          current: true,
        },
      ],
      trusted_devices: [
        { id: "d1", created_at: "2025-01-01T00:00:00Z", expires_at: "2025-01-31T00:00:00Z", user_agent: "UA" },
      ],
    };
    const fetch = mockFetch(jsonResponse(200, list));
    await expect(listSessions()).resolves.toEqual(list);
    expect(fetch.single()).toMatchObject({ method: "GET", url: "/api/auth/sessions" });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, false));
  });

  it("revokeSession sends DELETE without a body and escapes the id", async () => {
    const fetch = mockFetch(new Response(null, { status: 204 }));
    await revokeSession("a/b");
    expect(fetch.single()).toMatchObject({ method: "DELETE", url: "/api/auth/sessions/a%2Fb", body: undefined });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, false));
  });

  it("revokeSession maps not_found", async () => {
    mockFetch(errorResponse(404, "not_found"));
    await expect(revokeSession("gone")).rejects.toMatchObject({ status: 404, code: "not_found" });
  });

  it("revokeTrustedDevice sends DELETE to the device", async () => {
    const fetch = mockFetch(new Response(null, { status: 204 }));
    await revokeTrustedDevice("d1");
    expect(fetch.single()).toMatchObject({ method: "DELETE", url: "/api/auth/trusted-devices/d1" });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, false));
  });
});
