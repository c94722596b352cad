/*
 * Forward-auth through a real Caddy (Debian's package, `forward_auth`), configured with the README's
 * snippet (support/caddy.ts) in front of an application that echoes the headers it receives. Attacks
 * covered: reaching the application without signing in, a client sending its own Remote-* headers or its
 * own X-Original-URL, a one-factor session on a two-factor path, a deny path, a session used after logout,
 * and a site outside COOKIE_DOMAIN whose sign-in redirect would be an open redirect. `npm test` under
 * CI=true refuses to skip this suite (scripts/test.mjs).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { totpCode } from "../support/accounts.js";
import { caddyfile, hasCaddy, startCaddy, type Caddy } from "../support/caddy.js";
import { cookie } from "../support/cookies.js";
import { sqliteDialect } from "../support/dialects.js";
import { forwardAuthEnv, loginFor, rulesFile, siteBehindProxy, testRules } from "../support/forward-auth.js";
import { call, str } from "../support/http.js";
import { browserGet, echoServer } from "../support/nginx.js";
import { listenOnLoopback } from "../support/raw-http.js";

const rules = `${testRules}
  - host: app.elsewhere.example
    policy: one_factor
`;

describe.skipIf(!hasCaddy)("forward-auth behind a real Caddy", () => {
  let t: TestApp;
  let caddy: Caddy;
  let app: { port: number; close(): Promise<void> };
  beforeAll(async () => {
    t = await appOn(sqliteDialect, { env: forwardAuthEnv(rulesFile(rules)) });
    const tesseraPort = await listenOnLoopback(t.app);
    app = await echoServer();
    const hosts = ["app.tessera.test", "app.elsewhere.example"];
    caddy = await startCaddy((port) => caddyfile(hosts, tesseraPort, app.port, port));
  });
  afterAll(async () => {
    await caddy?.stop();
    await app?.close();
    await t?.close();
  });

  const { visit, seenBy, signIn } = siteBehindProxy(
    () => t,
    () => caddy.port,
  );

  it("sends an anonymous visitor to the login screen, which returns to the page afterwards", async () => {
    const reply = await visit("/notes?id=7");
    expect(reply.status, caddy.log()).toBe(302);
    expect(reply.headers["location"]).toBe(loginFor("http://app.tessera.test/notes?id=7"));
    expect(reply.body).not.toContain("headers");
  });

  it("attack: a client's own Remote-* headers never reach the app; it sees the signed-in user", async () => {
    const { session } = await signIn("alice");
    const forged = { "remote-user": "admin", "remote-groups": "admin", "remote-email": "a@evil.example" };
    const reply = await visit("/dashboard", session, { ...forged, "remote-aal": "2" });
    expect(reply.status, caddy.log()).toBe(200);
    const seen = seenBy(reply);
    expect(seen["remote-user"]).toBe("alice");
    expect(seen["remote-groups"] ?? "").toBe("");
    expect(seen["remote-email"] ?? "").toBe("");
    expect(seen["remote-aal"]).toBe("1");
  });

  it("attack: a client's own X-Original-URL does not open a closed or two-factor path", async () => {
    const { session } = await signIn("mallory");
    const claim = { "x-original-url": "http://app.tessera.test/open" };
    expect((await visit("/closed", session, claim)).status).toBe(403);
    const stepUp = await visit("/secure/report", session, claim);
    expect(stepUp.status).toBe(302);
    expect(stepUp.body).not.toContain("headers");
  });

  it("refuses a one-factor session on a two_factor path until the code is given", async () => {
    const { session, token } = await signIn("bob");
    const refused = await visit("/secure/report", session);
    expect(refused.status).toBe(302);
    expect(refused.headers["location"]).toBe(loginFor("http://app.tessera.test/secure/report"));
    const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token });
    const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
      token,
      body: { code: totpCode(str(setup.body["secret"]), t.clock) },
    });
    expect(confirm.status, confirm.text).toBe(200);
    const allowed = await visit("/secure/report", cookie(confirm.headers, "tessera_session").value);
    expect(allowed.status, caddy.log()).toBe(200);
    expect(seenBy(allowed)["remote-user"]).toBe("bob");
    expect(seenBy(allowed)["remote-aal"]).toBe("2");
  });

  it("answers 403 on a deny path, signed in or not", async () => {
    const { session } = await signIn("carol");
    expect((await visit("/closed", session)).status).toBe(403);
    expect((await visit("/%63losed", session)).status).toBe(403);
    expect((await visit("/closed")).status).toBe(403);
  });

  it("ends access at logout", async () => {
    const { session, token } = await signIn("dave");
    expect((await visit("/", session)).status).toBe(200);
    expect((await call(t.app, "POST", "/api/auth/logout", { token })).status).toBe(204);
    const after = await visit("/", session);
    expect(after.status).toBe(302);
    expect(after.body).not.toContain("headers");
  });

  it("never redirects a site outside COOKIE_DOMAIN to the login screen and back (no open redirect)", async () => {
    const elsewhere = await browserGet(caddy.port, "app.elsewhere.example", "/");
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers["location"]).toBeUndefined();
    expect(elsewhere.body).not.toContain("headers");
    const evilRd = await visit("/?rd=https%3A%2F%2Fevil.example%2F");
    expect(evilRd.status).toBe(302);
    expect(evilRd.headers["location"]).toBe(loginFor("http://app.tessera.test/?rd=https%3A%2F%2Fevil.example%2F"));
  });
});
