import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { errorResponse, expectedHeaders, jsonResponse, mockFetch, signedInBrowser } from "../test-utils/fetch-mock";
import { listAuditEvents, listUsers, lockUser, resetUserSecondFactor, unlockUser } from "./admin";

beforeEach(signedInBrowser);
afterEach(() => vi.unstubAllGlobals());

describe("admin api", () => {
  it("listUsers unwraps the users", async () => {
    const users = [
      {
        id: "u1",
        username: "alice",
        email: null,
        email_verified: false,
        mfa_enabled: true,
        created_at: "2025-01-01T00:00:00Z",
        last_login_at: null,
        previous_login_at: null,
        roles: [],
        locked: false,
      },
    ];
    const fetch = mockFetch(jsonResponse(200, { users }));
    await expect(listUsers()).resolves.toEqual(users);
    expect(fetch.single()).toMatchObject({ method: "GET", url: "/api/admin/users" });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, false));
  });

  it("listUsers maps forbidden for a non-admin", async () => {
    mockFetch(errorResponse(403, "forbidden"));
    await expect(listUsers()).rejects.toMatchObject({ status: 403, code: "forbidden" });
  });

  it.each([
    ["resetUserSecondFactor", resetUserSecondFactor, "/api/admin/users/u%201/reset-2fa"],
    ["lockUser", lockUser, "/api/admin/users/u%201/lock"],
    ["unlockUser", unlockUser, "/api/admin/users/u%201/unlock"],
  ])("%s posts to the user's action", async (_name, call, url) => {
    const fetch = mockFetch(new Response(null, { status: 204 }));
    await expect(call("u 1")).resolves.toBeUndefined();
    expect(fetch.single()).toMatchObject({ method: "POST", url, body: {} });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it("listAuditEvents unwraps the events", async () => {
    const events = [
      {
        id: "e1",
        type: "login_failed",
        ip: null,
        user_agent: null,
        created_at: "2025-01-01T00:00:00Z",
        user_id: "u1",
        username: "alice",
      },
    ];
    const fetch = mockFetch(jsonResponse(200, { events }));
    await expect(listAuditEvents()).resolves.toEqual(events);
    expect(fetch.single()).toMatchObject({ method: "GET", url: "/api/admin/audit" });
  });

  it("maps mfa_required for an admin session without a second factor", async () => {
    mockFetch(errorResponse(401, "mfa_required"));
    await expect(lockUser("u1")).rejects.toMatchObject({ code: "mfa_required" });
  });
});
