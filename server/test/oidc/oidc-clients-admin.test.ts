import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/crypto/hash.js";
import { enrolledUser, fullLogin, register, uniqueName } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, str, type Json } from "../support/http.js";
import { outlive } from "../support/reauth.js";

/*
 * Registering applications is an administrator's act (SPEC "Other applications sign in through Tessera"):
 * an ordinary user, an admin without two-factor, or an admin whose sign-in is old are refused; the secret is
 * in the creation reply only and stored as a hash; removing a client ends what it holds.
 */

const redirect = "https://grafana.example.org/login/generic_oauth";

describe.each(testDialects())("admin API for OIDC clients ($name)", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appOn(dialect);
  });
  afterAll(async () => t?.close());

  async function adminToken(): Promise<string> {
    const name = uniqueName("oidcadmin");
    const { secret } = await enrolledUser(t.app, t.clock, name);
    await t.app.services.admin.grantRole(name, "admin");
    const { accessToken } = await fullLogin(t, name, secret);
    t.clock.advance(30);
    return accessToken;
  }

  it("creates a confidential client whose secret is shown once and stored hashed, lists and deletes it", async () => {
    const token = await adminToken();
    const created = await call(t.app, "POST", "/api/admin/oidc-clients", {
      token,
      body: { name: "Grafana", redirect_uris: [redirect], require_2fa: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const clientId = str(created.body["client_id"]);
    const secret = str(created.body["client_secret"]);
    expect(created.body).toMatchObject({
      public: false,
      require_2fa: true,
      first_party: false,
      redirect_uris: [redirect],
    });
    const row = await t.db
      .selectFrom("oidc_client")
      .selectAll()
      .where("client_id", "=", clientId)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash).toBe(hashSecret(secret));

    const list = await call(t.app, "GET", "/api/admin/oidc-clients", { token });
    expect(list.status).toBe(200);
    const listed = (list.body["clients"] as Json[]).find((c) => c["client_id"] === clientId);
    expect(listed).toMatchObject({ name: "Grafana", public: false });
    expect(JSON.stringify(list.body)).not.toContain(secret);

    const audit = await call(t.app, "GET", "/api/admin/audit", { token });
    expect((audit.body["events"] as Json[]).map((e) => e["type"])).toContain("oidc_client_created");

    expect((await call(t.app, "DELETE", `/api/admin/oidc-clients/${clientId}`, { token })).status).toBe(204);
    expectError(await call(t.app, "DELETE", `/api/admin/oidc-clients/${clientId}`, { token }), 404, "not_found");
  });

  it("a public client has no secret; a first-party flag is kept", async () => {
    const token = await adminToken();
    const created = await call(t.app, "POST", "/api/admin/oidc-clients", {
      token,
      body: { name: "SPA", redirect_uris: ["http://localhost:5173/cb"], public: true, first_party: true },
    });
    expect(created.status).toBe(201);
    expect(created.body["client_secret"]).toBeUndefined();
    expect(created.body).toMatchObject({ public: true, first_party: true });
  });

  it("malformed input: relative, fragment or non-http redirect URIs, missing fields: 422, never 5xx", async () => {
    const token = await adminToken();
    for (const body of [
      { name: "x", redirect_uris: ["/callback"] },
      { name: "x", redirect_uris: ["https://a.example/cb#x"] },
      { name: "x", redirect_uris: ["javascript:alert(1)"] },
      { name: "x", redirect_uris: [] },
      { name: "", redirect_uris: [redirect] },
      { redirect_uris: [redirect] },
      { name: "x", redirect_uris: "https://a.example/cb" },
    ]) {
      expectError(await call(t.app, "POST", "/api/admin/oidc-clients", { token, body }), 422, "validation_failed");
    }
  });

  it("only a recent two-factor admin registers apps (user, admin without 2FA, old sign-in refused)", async () => {
    const user = await register(t.app, uniqueName("plain"));
    const body = { name: "Evil", redirect_uris: ["https://evil.example/cb"] };
    expectError(
      await call(t.app, "POST", "/api/admin/oidc-clients", { token: user.accessToken, body }),
      403,
      "forbidden",
    );
    const weak = uniqueName("weakadmin");
    const weakAdmin = await register(t.app, weak);
    await t.app.services.admin.grantRole(weak, "admin");
    expectError(
      await call(t.app, "POST", "/api/admin/oidc-clients", { token: weakAdmin.accessToken, body }),
      // Administrators always need two-factor: a session of one without it is held in enrolment (SPEC §2).
      403,
      "enrollment_required",
    );
    const stale = await adminToken();
    outlive(t);
    expectError(await call(t.app, "GET", "/api/admin/oidc-clients", { token: stale }), 401, "reauth_required");
    expectError(await call(t.app, "GET", "/api/admin/oidc-clients"), 401, "unauthorized");
    expect(await t.db.selectFrom("oidc_client").select("client_id").where("name", "=", "Evil").execute()).toEqual([]);
  });
});
