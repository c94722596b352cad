import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/http.js";
import { enrolledUser, uniqueName } from "../support/accounts.js";
import { testDialects } from "../support/dialects.js";
import {
  authorize,
  browserSignIn,
  CookieBrowser,
  expectCallback,
  oidcServer,
  pkceRequest,
  redirectUri,
  relyingParty,
  type OidcTestServer,
} from "../support/oidc.js";

const meta = { ip: null, userAgent: null };

/*
 * The interaction rules around the code flow: who is asked what (first-party and public clients, prompt=none,
 * prompt=login), and what removing a client or deleting an account leaves behind (nothing).
 */
describe.each(testDialects())("OpenID Connect interactions ($name)", (dialect) => {
  let t: OidcTestServer;
  beforeAll(async () => {
    t = await oidcServer(dialect);
  });
  afterAll(async () => t?.close());

  async function person() {
    const name = uniqueName("ix");
    const { secret, userId } = await enrolledUser(t.app, t.clock, name);
    const browser = new CookieBrowser();
    return { browser, userId, token: await browserSignIn(browser, t, name, secret) };
  }

  it("a first-party public client gets a code without a consent step, and exchanges it with PKCE alone", async () => {
    const created = await t.app.services.oidcClients.create(
      { name: "Own SPA", redirect_uris: [redirectUri], public: true, first_party: true },
      meta,
    );
    expect(created.client_secret).toBeUndefined();
    const rp = await relyingParty(t.issuer, { client_id: created.client.client_id }, redirectUri);
    const { browser, token, userId } = await person();
    const { url, verifier } = await pkceRequest(rp.config);
    const result = await authorize(browser, t.issuer, url, token);
    expect(result).toMatchObject({ steps: ["login"] });
    const tokens = await client.authorizationCodeGrant(rp.config, expectCallback(result), {
      pkceCodeVerifier: verifier,
    });
    expect(tokens.claims()?.sub).toBe(userId);
  });

  it("a third-party client asks consent once per browser; prompt=none cannot skip Tessera's screen", async () => {
    const created = await t.app.services.oidcClients.create({ name: "Wiki", redirect_uris: [redirectUri] }, meta);
    const rp = await relyingParty(
      t.issuer,
      { client_id: created.client.client_id, client_secret: created.client_secret ?? "" },
      redirectUri,
    );
    const { browser, token } = await person();
    expect(await authorize(browser, t.issuer, (await pkceRequest(rp.config)).url, token)).toMatchObject({
      steps: ["login", "consent"],
    });
    expect(await authorize(browser, t.issuer, (await pkceRequest(rp.config)).url, token)).toMatchObject({
      steps: ["login"],
    });
    const silent = expectCallback(
      await authorize(browser, t.issuer, (await pkceRequest(rp.config, { prompt: "none" })).url, token),
    );
    expect(silent.searchParams.get("error")).toBe("login_required");
    expect(silent.searchParams.get("code")).toBeNull();
  });

  it("prompt=login wants a sign-in made after the request: an older one is asked to re-authenticate", async () => {
    const created = await t.app.services.oidcClients.create({ name: "Bank", redirect_uris: [redirectUri] }, meta);
    const rp = await relyingParty(
      t.issuer,
      { client_id: created.client.client_id, client_secret: created.client_secret ?? "" },
      redirectUri,
    );
    // Signed in a minute ago (Tessera's test clock; the OIDC library keeps real time).
    t.clock.set(Math.floor(Date.now() / 1000) - 90);
    const { browser, token } = await person();
    const result = await authorize(browser, t.issuer, (await pkceRequest(rp.config, { prompt: "login" })).url, token);
    expect(result).toMatchObject({ refusal: { status: 401, body: { error: { code: "reauth_required" } } } });
  });

  it("removing a client, or deleting the account, deletes its grants and tokens", async () => {
    const created = await t.app.services.oidcClients.create(
      { name: "Temp", redirect_uris: [redirectUri], first_party: true },
      meta,
    );
    const clientId = created.client.client_id;
    const rp = await relyingParty(
      t.issuer,
      { client_id: clientId, client_secret: created.client_secret ?? "" },
      redirectUri,
    );
    const { browser, token, userId } = await person();
    const { url, verifier } = await pkceRequest(rp.config, { scope: "openid offline_access", prompt: "consent" });
    const tokens = await client.authorizationCodeGrant(
      rp.config,
      expectCallback(await authorize(browser, t.issuer, url, token)),
      {
        pkceCodeVerifier: verifier,
      },
    );
    const rows = () => t.db.selectFrom("oidc_payload").select("kind").where("client_id", "=", clientId).execute();
    expect((await rows()).length).toBeGreaterThan(0);
    await t.app.services.oidcClients.remove(clientId, meta);
    expect(await rows()).toEqual([]);
    await expect(client.refreshTokenGrant(rp.config, tokens.refresh_token ?? "")).rejects.toThrow();

    const other = await t.app.services.oidcClients.create(
      { name: "Keep", redirect_uris: [redirectUri], first_party: true },
      meta,
    );
    const otherRp = await relyingParty(
      t.issuer,
      { client_id: other.client.client_id, client_secret: other.client_secret ?? "" },
      redirectUri,
    );
    const second = await pkceRequest(otherRp.config);
    await client.authorizationCodeGrant(
      otherRp.config,
      expectCallback(await authorize(browser, t.issuer, second.url, token)),
      {
        pkceCodeVerifier: second.verifier,
      },
    );
    const mine = () => t.db.selectFrom("oidc_payload").select("kind").where("user_id", "=", userId).execute();
    expect((await mine()).length).toBeGreaterThan(0);
    await t.app.services.account.deleteAccountNow(userId, meta);
    expect(await mine()).toEqual([]);
    expect((await call(t.app, "GET", "/api/user/me", { token })).status).toBe(401);
  });
});
