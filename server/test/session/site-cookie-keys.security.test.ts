/*
 * The site-wide cookie `tessera_session` beside the CSRF token `tessera_csrf`: each under a key of its own,
 * so neither is accepted as the other. The site cookie reaches every site under COOKIE_DOMAIN (the apps
 * behind forward-auth read it); the CSRF token is readable by Tessera's scripts. And both are Secure
 * whenever PUBLIC_URL is https, though a TLS-terminating proxy speaks plain HTTP to Tessera.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { register, strongPassword, uniqueName } from "../support/accounts.js";
import { cookie } from "../support/cookies.js";
import { check, forwardAuthEnv } from "../support/forward-auth.js";
import { send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

async function browserLogin(t: TestApp): Promise<{ refresh: string; csrf: string; site: string; secure: string[] }> {
  const name = uniqueName("keys");
  await register(t.app, name);
  const res = await send(t.app, {
    method: "POST",
    url: "/api/auth/login",
    body: { username: name, password: strongPassword },
  });
  expect(res.status, res.text).toBe(200);
  const names = ["tessera_refresh", "tessera_csrf", "tessera_session"];
  const [refresh, csrf, site] = names.map((n) => cookie(res.headers, n));
  return {
    refresh: refresh?.value ?? "",
    csrf: csrf?.value ?? "",
    site: site?.value ?? "",
    secure: [refresh, csrf, site].filter((c) => c?.attributes.has("secure")).map((c) => c?.name ?? ""),
  };
}

const refreshWith = (t: TestApp, refresh: string, csrf: string) =>
  send(t.app, {
    method: "POST",
    url: "/api/auth/token/refresh",
    cookies: { tessera_refresh: refresh, tessera_csrf: csrf },
    headers: { "x-csrf-token": csrf },
  });

for (const dialect of testDialects()) {
  describe(`site cookie and CSRF token keys [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { env: forwardAuthEnv() });
    });
    afterAll(async () => t.close());

    it("attack: the site cookie, which every site under COOKIE_DOMAIN gets, is refused as the CSRF token", async () => {
      const { refresh, csrf, site } = await browserLogin(t);
      const refused = await refreshWith(t, refresh, site);
      expect(refused.status, refused.text).toBe(403);
      // The refresh token was not used up: with its own CSRF token it still works.
      expect((await refreshWith(t, refresh, csrf)).status).toBe(200);
    });

    it("attack: the CSRF token, readable by scripts, is refused as the site cookie", async () => {
      const { csrf, site } = await browserLogin(t);
      expect((await check(t, "http://app.tessera.test/", { session: site })).status).toBe(200);
      const res = await check(t, "http://app.tessera.test/", { session: csrf });
      expect(res.status).toBe(302);
    });

    it("sets no Secure cookie for an http PUBLIC_URL reached over plain HTTP", async () => {
      expect((await browserLogin(t)).secure).toEqual([]);
    });
  });
}

describe("cookies with an https PUBLIC_URL behind a TLS-terminating proxy", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appOn(testDialects()[0] ?? (undefined as never), {
      env: { ...forwardAuthEnv(), PUBLIC_URL: "https://tessera.test" },
    });
  });
  afterAll(async () => t.close());

  it("are Secure although the proxy speaks plain HTTP and sends no X-Forwarded-Proto", async () => {
    expect((await browserLogin(t)).secure).toEqual(["tessera_refresh", "tessera_csrf", "tessera_session"]);
  });
});
