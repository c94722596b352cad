/*
 * Attacks on which request forward-auth judges: a client behind Traefik or Caddy (which pass the client's own
 * headers on) adds an X-Original-URL naming a lenient page; a client puts a lenient `?rd=` in the query the
 * proxy passes on, hoping a header Tessera cannot read sends it to `rd`; a session held in enrolment by the
 * two-factor policy asks to reach a site before it has a second factor.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { register, strongPassword, uniqueName } from "../support/accounts.js";
import { cookie } from "../support/cookies.js";
import { check, forwardAuthEnv } from "../support/forward-auth.js";
import { expectError, send } from "../support/http.js";
import { sqliteDialect } from "../support/dialects.js";

const operator = { ip: null, userAgent: "header-confusion test" };

describe("forward-auth judges only the request the proxy names", () => {
  let t: TestApp;
  let session: string;
  beforeAll(async () => {
    t = await appOn(sqliteDialect, { env: forwardAuthEnv() });
    const name = uniqueName("confused");
    await register(t.app, name);
    const res = await send(t.app, {
      method: "POST",
      url: "/api/auth/login",
      body: { username: name, password: strongPassword },
    });
    session = cookie(res.headers, "tessera_session").value;
  });
  afterAll(async () => t.close());

  const traefikAsking = (
    uri: string,
    extra: Record<string, string> = {},
    query = "",
  ): Promise<Awaited<ReturnType<typeof send>>> =>
    send(t.app, {
      method: "GET",
      url: `/api/forward-auth${query}`,
      headers: {
        "x-forwarded-proto": "http",
        "x-forwarded-host": "app.tessera.test",
        "x-forwarded-uri": uri,
        "x-forwarded-method": "GET",
        ...extra,
      },
      cookies: { tessera_session: session },
    });

  it("refuses a one-factor session on a two_factor path, also with a lenient X-Original-URL added", async () => {
    expect((await traefikAsking("/secure/report")).status).toBe(302);
    const smuggled = await traefikAsking("/secure/report", { "x-original-url": "http://app.tessera.test/public" });
    expectError(smuggled, 422, "validation_failed");
    expect(smuggled.headers["remote-user"]).toBeUndefined();
    // Without the smuggled header the lenient page itself is allowed: the refusal above is about the header.
    expect((await traefikAsking("/public")).status).toBe(200);
  });

  it("a `?rd=` in the query the proxy passes on never decides when the proxy's headers cannot be read", async () => {
    const rd = `?rd=${encodeURIComponent("http://app.tessera.test/public")}`;
    // An X-Forwarded-Uri Tessera cannot read (not a path): the request the proxy asks about is unknown.
    const unreadable = await traefikAsking("*", {}, rd);
    expectError(unreadable, 422, "validation_failed");
    expect(unreadable.headers["remote-user"]).toBeUndefined();
    // The same from an address outside TRUST_PROXY (a proxy Tessera was not told about).
    const untrusted = await send(t.app, {
      method: "GET",
      url: `/api/forward-auth${rd}`,
      headers: { "x-forwarded-proto": "http", "x-forwarded-host": "app.tessera.test", "x-forwarded-uri": "/secure/x" },
      cookies: { tessera_session: session },
      remoteAddress: "203.0.113.9",
    });
    expectError(untrusted, 422, "validation_failed");
  });

  it("a session held in enrolment by the two-factor policy reaches no site, not even a one_factor one", async () => {
    await t.app.services.policy.set(null, "all", operator);
    try {
      const name = uniqueName("enrolling");
      await register(t.app, name);
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username: name, password: strongPassword },
      });
      const held = cookie(res.headers, "tessera_session").value;
      const refused = await check(t, "http://app.tessera.test/public", { session: held });
      expect(refused.status).toBe(302);
      expect(refused.headers["remote-user"]).toBeUndefined();
    } finally {
      await t.app.services.policy.set(null, "off", operator);
    }
  });
});
