import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { errorResponse, expectedHeaders, jsonResponse, mockFetch, signedInBrowser } from "../test-utils/fetch-mock";
import {
  listAuditEvents,
  listUsers,
  lockUser,
  resetUserSecondFactor,
  revokeUserSessions,
  setPolicy,
  setUserRoles,
  unlockUser,
} from "./admin";

beforeEach(signedInBrowser);
afterEach(() => vi.unstubAllGlobals());

describe("admin api", () => {
  it("listUsers sends the filters that are set and returns the page", async () => {
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
    const fetch = mockFetch(jsonResponse(200, { users, total: 1, page: 2, limit: 20 }));
    await expect(listUsers({ q: "al ice", mfa: "", locked: "true", page: 2, limit: 20 })).resolves.toEqual({
      users,
      total: 1,
      page: 2,
      limit: 20,
    });
    expect(fetch.single()).toMatchObject({
      method: "GET",
      url: "/api/admin/users?q=al+ice&locked=true&page=2&limit=20",
    });
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
    ["revokeUserSessions", revokeUserSessions, "/api/admin/users/u%201/revoke-sessions"],
  ])("%s posts to the user's action", async (_name, call, url) => {
    const fetch = mockFetch(new Response(null, { status: 204 }));
    await expect(call("u 1")).resolves.toBeUndefined();
    expect(fetch.single()).toMatchObject({ method: "POST", url, body: {} });
    expect(fetch.single().headers).toEqual(expectedHeaders(true, true));
  });

  it("setUserRoles and setPolicy PUT their bodies", async () => {
    const fetch = mockFetch(jsonResponse(200, { roles: ["ops"] }));
    await expect(setUserRoles("u1", ["ops"])).resolves.toEqual(["ops"]);
    expect(fetch.single()).toMatchObject({ method: "PUT", url: "/api/admin/users/u1/roles", body: { roles: ["ops"] } });
    const policy = { require_2fa: "all", affected: { users: 3, without_second_factor: 1 } };
    const put = mockFetch(jsonResponse(200, policy));
    await expect(setPolicy("all")).resolves.toEqual(policy);
    expect(put.single()).toMatchObject({ method: "PUT", url: "/api/admin/policy", body: { require_2fa: "all" } });
  });

  it("listAuditEvents sends the filters and returns the page", async () => {
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
    const fetch = mockFetch(jsonResponse(200, { events, total: 1, page: 1, limit: 50 }));
    await expect(listAuditEvents({ user: "alice", type: "login_failed" })).resolves.toMatchObject({ events, total: 1 });
    expect(fetch.single()).toMatchObject({ method: "GET", url: "/api/admin/audit?user=alice&type=login_failed" });
  });

  it("maps mfa_required for an admin session without a second factor", async () => {
    mockFetch(errorResponse(401, "mfa_required"));
    await expect(lockUser("u1")).rejects.toMatchObject({ code: "mfa_required" });
  });
});
