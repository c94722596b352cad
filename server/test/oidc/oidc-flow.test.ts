import { createRemoteJWKSet, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, uniqueName } from "../support/accounts.js";
import { testDialects } from "../support/dialects.js";
import {
  authorize,
  browserSignIn,
  CookieBrowser,
  expectCallback,
  oidcServer,
  redirectUri,
  relyingParty,
  type OidcTestServer,
} from "../support/oidc.js";

const meta = { ip: null, userAgent: null };

describe.each(testDialects())("OpenID Connect code flow with PKCE ($name)", (dialect) => {
  let t: OidcTestServer;
  beforeAll(async () => {
    t = await oidcServer(dialect);
  });
  afterAll(async () => t?.close());

  it("signs a two-factor user in: discovery, code, ID token against the JWKS, userinfo, refresh, logout", async () => {
    const created = await t.app.services.oidcClients.create(
      { name: "Grafana", redirect_uris: [redirectUri], post_logout_redirect_uris: ["http://app.test/bye"] },
      meta,
    );
    const rp = await relyingParty(
      t.issuer,
      { client_id: created.client.client_id, client_secret: created.client_secret ?? "" },
      redirectUri,
    );
    const discovery = rp.config.serverMetadata();
    expect(discovery.issuer).toBe(t.issuer);
    expect(discovery.jwks_uri).toBe(`${t.issuer}/.well-known/jwks.json`);
    expect(discovery.code_challenge_methods_supported).toEqual(["S256"]);
    expect(discovery.response_types_supported).toEqual(["code"]);
    expect(discovery.id_token_signing_alg_values_supported).toEqual(["EdDSA"]);

    const name = uniqueName("oidc");
    const { userId, secret } = await enrolledUser(t.app, t.clock, name);
    const browser = new CookieBrowser();
    const accessToken = await browserSignIn(browser, t, name, secret);
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(rp.config, {
      redirect_uri: redirectUri,
      scope: "openid profile email offline_access",
      prompt: "consent",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      nonce,
      state,
    });
    const callback = expectCallback(await authorize(browser, t.issuer, url, accessToken));
    expect(callback.origin + callback.pathname).toBe(redirectUri);

    const tokens = await client.authorizationCodeGrant(rp.config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
    });
    const idToken = tokens.id_token ?? "";
    const { payload, protectedHeader } = await jwtVerify(
      idToken,
      createRemoteJWKSet(new URL(discovery.jwks_uri ?? "")),
      {
        issuer: t.issuer,
        audience: created.client.client_id,
      },
    );
    expect(protectedHeader.alg).toBe("EdDSA");
    expect(payload.sub).toBe(userId);
    expect(payload["nonce"]).toBe(nonce);
    expect(payload["acr"]).toBe("urn:tessera:aal2");
    expect(payload["amr"]).toEqual(["pwd", "otp"]);
    expect(typeof payload["auth_time"]).toBe("number");
    expect(Math.abs(Number(payload["auth_time"]) - Math.floor(Date.now() / 1000))).toBeLessThan(120);

    const info = await client.fetchUserInfo(rp.config, tokens.access_token, userId);
    expect(info.preferred_username).toBe(name);

    expect(tokens.refresh_token).toBeTypeOf("string");
    const refreshed = await client.refreshTokenGrant(rp.config, tokens.refresh_token ?? "");
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect((await client.fetchUserInfo(rp.config, refreshed.access_token, userId)).sub).toBe(userId);

    // RP-initiated logout: the confirmation page, then "Sign out" ends the Tessera session as well.
    const end = client.buildEndSessionUrl(rp.config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: "http://app.test/bye",
    });
    const confirmPage = await browser.get(end.href);
    expect(confirmPage.status).toBe(200);
    const html = await confirmPage.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    expect(xsrf).not.toBe("");
    const done = await browser.get(`${t.issuer}/oidc/session/end/confirm`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ xsrf, logout: "yes" }).toString(),
    });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("http://app.test/bye");
    // "Sign out" ended the Tessera session of this browser too; offline_access grants outlive it (OIDC Core §11).
    const me = await fetch(`${t.issuer}/api/user/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(401);
  });
});
