import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getMe } from "../api/user";
import { errorResponse, jsonResponse, mockFetch, stubCookies } from "../test-utils/fetch-mock";
import { useSessionStore } from "./session";

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
const pair = (access: string, expiresIn = 900) => ({
  access_token: access,
  refresh_token: "opaque",
  token_type: "Bearer" as const,
  expires_in: expiresIn,
});

beforeEach(() => {
  setActivePinia(createPinia());
  vi.useFakeTimers();
  stubCookies("tessera_csrf=csrf-1");
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("session store: silent refresh on load", () => {
  it("restores the session from the refresh cookie, then loads the user", async () => {
    const fetch = mockFetch(jsonResponse(200, pair("a1")), jsonResponse(200, user));
    const store = useSessionStore();
    await store.init();
    expect(fetch.calls[0]).toMatchObject({ method: "POST", url: "/api/auth/token/refresh", body: {} });
    expect(fetch.calls[0]?.headers["x-csrf-token"]).toBe("csrf-1");
    expect(fetch.calls[1]).toMatchObject({ method: "GET", url: "/api/user/me" });
    expect(fetch.calls[1]?.headers.authorization).toBe("Bearer a1");
    expect(store).toMatchObject({ ready: true, isAuthenticated: true, accessToken: "a1", user });
  });

  it("does not call the server when there is no session cookie", async () => {
    stubCookies("");
    const fetch = mockFetch(jsonResponse(200, pair("a1")));
    const store = useSessionStore();
    await store.init();
    expect(fetch.calls).toHaveLength(0);
    expect(store).toMatchObject({ ready: true, isAuthenticated: false });
  });

  it("ends up signed out when the refresh cookie is no longer valid", async () => {
    const fetch = mockFetch(errorResponse(401, "unauthorized"));
    const store = useSessionStore();
    await store.init();
    expect(fetch.calls).toHaveLength(1);
    expect(store).toMatchObject({ ready: true, isAuthenticated: false, user: null });
  });

  it("runs only once however often it is called", async () => {
    const fetch = mockFetch(jsonResponse(200, pair("a1")), jsonResponse(200, user));
    const store = useSessionStore();
    await Promise.all([store.init(), store.init()]);
    await store.init();
    expect(fetch.calls).toHaveLength(2);
  });
});

describe("session store: scheduled refresh", () => {
  it("refreshes 60 seconds before the access token expires, and again after that", async () => {
    const fetch = mockFetch(jsonResponse(200, pair("a2")), jsonResponse(200, pair("a3")));
    const store = useSessionStore();
    store.acceptTokens(pair("a1", 900), user);
    await vi.advanceTimersByTimeAsync(839_000);
    expect(fetch.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetch.calls).toHaveLength(1);
    expect(fetch.calls[0]).toMatchObject({ url: "/api/auth/token/refresh", body: {} });
    expect(store.accessToken).toBe("a2");
    await vi.advanceTimersByTimeAsync(840_000);
    expect(fetch.calls).toHaveLength(2);
    expect(store.accessToken).toBe("a3");
    expect(store.user).toEqual(user);
  });

  it("refreshes at half-life when the token lives two minutes or less", async () => {
    const fetch = mockFetch(jsonResponse(200, pair("a2", 60)));
    const store = useSessionStore();
    store.acceptTokens(pair("a1", 60));
    await vi.advanceTimersByTimeAsync(29_000);
    expect(fetch.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetch.calls).toHaveLength(1);
  });

  it("signs out when a scheduled refresh is refused", async () => {
    mockFetch(errorResponse(401, "unauthorized"));
    const store = useSessionStore();
    store.acceptTokens(pair("a1", 900), user);
    await vi.advanceTimersByTimeAsync(840_000);
    expect(store).toMatchObject({ accessToken: null, user: null, isAuthenticated: false });
  });

  it("keeps the session and retries after a network failure", async () => {
    const fetch = mockFetch(new TypeError("offline"), jsonResponse(200, pair("a2")));
    const store = useSessionStore();
    store.acceptTokens(pair("a1", 900), user);
    await vi.advanceTimersByTimeAsync(840_000);
    expect(store.accessToken).toBe("a1");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fetch.calls).toHaveLength(2);
    expect(store.accessToken).toBe("a2");
  });

  it("shares one request between concurrent refreshes", async () => {
    const fetch = mockFetch(jsonResponse(200, pair("a2")));
    const store = useSessionStore();
    const results = await Promise.all([store.refresh(), store.refresh(), store.refresh()]);
    expect(results).toEqual([true, true, true]);
    expect(fetch.calls).toHaveLength(1);
  });
});

describe("session store: logout and token handling", () => {
  it("logout revokes the session on the server, clears the token and stops refreshing", async () => {
    const fetch = mockFetch(new Response(null, { status: 204 }), jsonResponse(200, pair("never")));
    const store = useSessionStore();
    store.acceptTokens(pair("a1"), user);
    await store.logout();
    expect(fetch.single()).toMatchObject({ method: "POST", url: "/api/auth/logout" });
    expect(fetch.single().headers.authorization).toBe("Bearer a1");
    expect(store).toMatchObject({ accessToken: null, user: null, isAuthenticated: false });
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(fetch.calls).toHaveLength(1);
  });

  it("logout clears the token even when the server cannot be reached", async () => {
    mockFetch(new TypeError("offline"));
    const store = useSessionStore();
    store.acceptTokens(pair("a1"), user);
    await store.logout();
    expect(store.accessToken).toBeNull();
  });

  it("hands its token to the API client", async () => {
    const fetch = mockFetch(jsonResponse(200, user));
    const store = useSessionStore();
    store.acceptTokens(pair("in-memory"));
    await getMe();
    expect(fetch.single().headers.authorization).toBe("Bearer in-memory");
  });

  it("refreshes and replays a call whose token has expired", async () => {
    const fetch = mockFetch(
      errorResponse(401, "unauthorized"),
      jsonResponse(200, pair("fresh")),
      jsonResponse(200, user),
    );
    const store = useSessionStore();
    store.acceptTokens(pair("stale"));
    await expect(getMe()).resolves.toEqual(user);
    expect(fetch.calls.map((call) => `${call.url} ${call.headers.authorization ?? "-"}`)).toEqual([
      "/api/user/me Bearer stale",
      "/api/auth/token/refresh -",
      "/api/user/me Bearer fresh",
    ]);
  });

  it("never writes tokens to localStorage", async () => {
    const storage = { setItem: vi.fn(), getItem: vi.fn(() => null), removeItem: vi.fn() };
    vi.stubGlobal("localStorage", storage);
    mockFetch(jsonResponse(200, pair("a2")), jsonResponse(200, user));
    const store = useSessionStore();
    store.acceptTokens(pair("a1"), user);
    await store.refresh();
    await store.init();
    expect(storage.setItem).not.toHaveBeenCalled();
  });

  it("accepting tokens ends a pending 2FA challenge", () => {
    const store = useSessionStore();
    store.challenge = { mfa_required: true, login_token: "lt", methods: ["totp"], expires_in: 300, source: "password" };
    store.acceptTokens(pair("a1"), user);
    expect(store.challenge).toBeNull();
  });

  it("gives a notice once", () => {
    const store = useSessionStore();
    store.notice = "Deleted.";
    expect(store.takeNotice()).toBe("Deleted.");
    expect(store.takeNotice()).toBeNull();
  });
});
