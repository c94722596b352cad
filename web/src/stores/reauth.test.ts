import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startSecondFactorSetup } from "../api/second-factor";
import { errorResponse, jsonResponse, mockFetch, stubCookies } from "../test-utils/fetch-mock";
import { useReauthStore } from "./reauth";
import { useSessionStore } from "./session";

const pair = (access: string) => ({
  access_token: access,
  refresh_token: "r",
  token_type: "Bearer" as const,
  expires_in: 900,
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

describe("reauth store", () => {
  it("opens once for every call that waits, and sends the password and code to /api/auth/reauth", async () => {
    const reauth = useReauthStore();
    const first = reauth.ask();
    const second = reauth.ask();
    expect(reauth.open).toBe(true);
    const fetch = mockFetch(jsonResponse(200, pair("fresh")));
    await reauth.confirm("my password", "123456");
    expect(fetch.single()).toMatchObject({
      method: "POST",
      url: "/api/auth/reauth",
      body: { password: "my password", code: "123456" },
    });
    await expect(first).resolves.toMatchObject({ access_token: "fresh" });
    await expect(second).resolves.toMatchObject({ access_token: "fresh" });
    expect(reauth.open).toBe(false);
  });

  it("stays open after a refused proof, so the person can try again", async () => {
    const reauth = useReauthStore();
    const waiting = reauth.ask();
    mockFetch(errorResponse(401, "invalid_credentials"));
    await expect(reauth.confirm("wrong")).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(reauth.open).toBe(true);
    mockFetch(jsonResponse(200, pair("fresh")));
    await reauth.confirm("right");
    await expect(waiting).resolves.toMatchObject({ access_token: "fresh" });
  });

  it("resolves null when cancelled, and asks afresh next time", async () => {
    const reauth = useReauthStore();
    const waiting = reauth.ask();
    reauth.cancel();
    await expect(waiting).resolves.toBeNull();
    expect(reauth.open).toBe(false);
    void reauth.ask();
    expect(reauth.open).toBe(true);
  });
});

describe("an action that needs a recent sign-in", () => {
  it("goes on after the dialog is confirmed, with the new token kept by the session", async () => {
    const session = useSessionStore();
    const reauth = useReauthStore();
    session.acceptTokens(pair("stale"));
    const fetch = mockFetch(
      errorResponse(401, "reauth_required"),
      jsonResponse(200, pair("fresh")),
      jsonResponse(200, { secret: "S", otpauth_url: "otpauth://", qr_png: "", qr_svg: "" }),
    );
    const setup = startSecondFactorSetup();
    await vi.waitFor(() => expect(reauth.open).toBe(true));
    await reauth.confirm("my password");
    await expect(setup).resolves.toMatchObject({ secret: "S" });
    expect(session.accessToken).toBe("fresh");
    expect(fetch.calls.map((call) => [call.url, call.headers.authorization])).toEqual([
      ["/api/auth/2fa/setup", "Bearer stale"],
      ["/api/auth/reauth", "Bearer stale"],
      ["/api/auth/2fa/setup", "Bearer fresh"],
    ]);
  });

  it("fails with its reauth_required error when the dialog is cancelled, and the token stays", async () => {
    const session = useSessionStore();
    const reauth = useReauthStore();
    session.acceptTokens(pair("stale"));
    mockFetch(errorResponse(401, "reauth_required"));
    const setup = startSecondFactorSetup();
    await vi.waitFor(() => expect(reauth.open).toBe(true));
    reauth.cancel();
    await expect(setup).rejects.toMatchObject({ code: "reauth_required" });
    expect(session.accessToken).toBe("stale");
  });
});
