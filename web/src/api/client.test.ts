import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { errorResponse, jsonResponse, mockFetch, stubCookies, useAccessToken } from "../test-utils/fetch-mock";
import { api, hasSessionCookie, readCookie } from "./client";
import { ApiError } from "./errors";

beforeEach(() => {
  stubCookies("theme=dark; tessera_csrf=csrf%2Fvalue; other=1");
  useAccessToken("access-1");
});
afterEach(() => vi.unstubAllGlobals());

describe("api client", () => {
  it("sends JSON with same-origin credentials, the CSRF header and the Bearer token", async () => {
    const fetch = mockFetch(jsonResponse(200, { ok: true }));
    await expect(api.post("/api/x", { a: 1 })).resolves.toEqual({ ok: true });
    const call = fetch.single();
    expect(call).toMatchObject({ method: "POST", url: "/api/x", body: { a: 1 }, credentials: "same-origin" });
    expect(call.headers).toMatchObject({
      "content-type": "application/json",
      accept: "application/json",
      "x-csrf-token": "csrf/value",
      authorization: "Bearer access-1",
    });
  });

  it("sends an empty JSON object for a POST without a payload", async () => {
    const fetch = mockFetch(jsonResponse(202, {}));
    await api.post("/api/y");
    expect(fetch.single().body).toEqual({});
  });

  it("leaves out the body and content type for a GET", async () => {
    const fetch = mockFetch(jsonResponse(200, {}));
    await api.get("/api/z");
    const call = fetch.single();
    expect(call.body).toBeUndefined();
    expect(call.headers["content-type"]).toBeUndefined();
  });

  it("omits Authorization when asked to and when signed out", async () => {
    const fetch = mockFetch(jsonResponse(200, {}));
    await api.get("/api/a", { auth: false });
    useAccessToken(null);
    await api.get("/api/b");
    expect(fetch.calls.map((call) => call.headers.authorization)).toEqual([undefined, undefined]);
  });

  it("omits the CSRF header when the cookie is absent", async () => {
    stubCookies("theme=dark");
    const fetch = mockFetch(jsonResponse(200, {}));
    await api.get("/api/a");
    expect(fetch.single().headers["x-csrf-token"]).toBeUndefined();
  });

  it("resolves null for a 204 without a body", async () => {
    mockFetch(new Response(null, { status: 204 }));
    await expect(api.delete("/api/thing")).resolves.toBeNull();
  });

  it("maps an error body to an ApiError with code, human message and details", async () => {
    mockFetch(errorResponse(422, "validation_failed", { details: [{ field: "password", message: "too short" }] }));
    const error = await api.post("/api/auth/register", {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 422,
      code: "validation_failed",
      serverMessage: "server says validation_failed",
      message: "Some fields need attention.",
    });
    expect((error as ApiError).fieldErrors()).toEqual({ password: "Too short." });
  });

  it("reads Retry-After on rate_limited", async () => {
    mockFetch(errorResponse(429, "rate_limited", {}, { "Retry-After": "42" }));
    await expect(api.post("/api/auth/login", {})).rejects.toMatchObject({
      code: "rate_limited",
      retryAfterSeconds: 42,
      message: "Too many attempts. Try again in 42 seconds.",
    });
  });

  it("maps a non-JSON failure by its status", async () => {
    mockFetch(new Response("<html>bad gateway</html>", { status: 502 }));
    await expect(api.get("/api/user/me")).rejects.toMatchObject({ status: 502, code: "internal_error" });
  });

  it("maps a network failure to network_error", async () => {
    mockFetch(new TypeError("Failed to fetch"));
    await expect(api.get("/api/user/me")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("refreshes once and replays the call when the access token has expired", async () => {
    let token = "old";
    const refresh = vi.fn(async () => {
      token = "new";
      return true;
    });
    const { configureClient } = await import("./client");
    configureClient({ getAccessToken: () => token, refreshAccessToken: refresh });
    const fetch = mockFetch(errorResponse(401, "unauthorized"), jsonResponse(200, { id: "u1" }));
    await expect(api.get("/api/user/me")).resolves.toEqual({ id: "u1" });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(fetch.calls.map((call) => call.headers.authorization)).toEqual(["Bearer old", "Bearer new"]);
  });

  it("does not refresh on mfa_required or when the refresh fails", async () => {
    const refresh = vi.fn(async () => false);
    useAccessToken("t", refresh);
    mockFetch(errorResponse(401, "mfa_required"));
    await expect(api.post("/api/user/password", {})).rejects.toMatchObject({ code: "mfa_required" });
    expect(refresh).not.toHaveBeenCalled();
    const fetch = mockFetch(errorResponse(401, "unauthorized"));
    await expect(api.get("/api/user/me")).rejects.toMatchObject({ code: "unauthorized" });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(fetch.calls).toHaveLength(1);
  });
});

describe("api client: re-authentication in place", () => {
  /** A client whose reauthenticate hook answers `answer` and swaps the token when it says yes. */
  async function clientWithReauth(answer: boolean, refreshes = false) {
    let token = "stale";
    const reauthenticate = vi.fn(async () => {
      if (answer) token = "fresh";
      return answer;
    });
    const refresh = vi.fn(async () => {
      token = "refreshed";
      return refreshes;
    });
    const { configureClient } = await import("./client");
    configureClient({ getAccessToken: () => token, refreshAccessToken: refresh, reauthenticate });
    return { reauthenticate, refresh };
  }

  it("asks once on reauth_required, then replays the same call with the same body and the new token", async () => {
    const { reauthenticate, refresh } = await clientWithReauth(true);
    const fetch = mockFetch(errorResponse(401, "reauth_required"), jsonResponse(202, { status: "accepted" }));
    const body = { email: "new@example.com", password: "typed before the dialog" };
    await expect(api.post("/api/user/email", body)).resolves.toEqual({ status: "accepted" });
    expect(reauthenticate).toHaveBeenCalledTimes(1);
    expect(refresh).not.toHaveBeenCalled();
    expect(fetch.calls.map((call) => [call.url, call.body, call.headers.authorization])).toEqual([
      ["/api/user/email", body, "Bearer stale"],
      ["/api/user/email", body, "Bearer fresh"],
    ]);
  });

  it("fails with reauth_required, in words, when the person declines", async () => {
    await clientWithReauth(false);
    const fetch = mockFetch(errorResponse(401, "reauth_required"));
    await expect(api.post("/api/auth/2fa/setup")).rejects.toMatchObject({
      status: 401,
      code: "reauth_required",
      message: "For your security, confirm it is you: enter your password again to continue.",
    });
    expect(fetch.calls).toHaveLength(1);
  });

  it("refreshes an expired token first, then asks when the replay needs a recent sign-in", async () => {
    const { reauthenticate, refresh } = await clientWithReauth(true, true);
    const fetch = mockFetch(
      errorResponse(401, "unauthorized"),
      errorResponse(401, "reauth_required"),
      jsonResponse(200, { secret: "S" }),
    );
    await expect(api.post("/api/auth/2fa/setup")).resolves.toEqual({ secret: "S" });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(reauthenticate).toHaveBeenCalledTimes(1);
    expect(fetch.calls.map((call) => call.headers.authorization)).toEqual([
      "Bearer stale",
      "Bearer refreshed",
      "Bearer fresh",
    ]);
  });

  it("does not ask for calls made without the session, nor for other 401s", async () => {
    const { reauthenticate } = await clientWithReauth(true);
    mockFetch(errorResponse(401, "reauth_required"));
    await expect(api.post("/api/auth/login", {}, { auth: false })).rejects.toMatchObject({ code: "reauth_required" });
    mockFetch(errorResponse(401, "invalid_credentials"));
    await expect(api.post("/api/auth/reauth", { password: "x" })).rejects.toMatchObject({
      code: "invalid_credentials",
    });
    expect(reauthenticate).not.toHaveBeenCalled();
  });
});

describe("cookies", () => {
  it("reads and decodes a named cookie", () => {
    expect(readCookie("tessera_csrf")).toBe("csrf/value");
    expect(readCookie("missing")).toBeNull();
    expect(hasSessionCookie()).toBe(true);
  });

  it("finds nothing outside a browser", () => {
    vi.unstubAllGlobals();
    expect(readCookie("tessera_csrf")).toBeNull();
    expect(hasSessionCookie()).toBe(false);
  });
});
