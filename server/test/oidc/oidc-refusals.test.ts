import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, register, uniqueName } from "../support/accounts.js";
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
  type RelyingParty,
} from "../support/oidc.js";

const meta = { ip: null, userAgent: null };
/** How openid-client reports a 401 from the token endpoint: the RFC 6749 error in its WWW-Authenticate challenge. */
const invalidClient = { status: 401, cause: [{ parameters: { error: "invalid_client" } }] };

describe.each(testDialects())("OpenID Connect refusals ($name)", (dialect) => {
  let t: OidcTestServer;
  let rp: RelyingParty;
  let clientId: string;
  let secret: string;
  beforeAll(async () => {
    t = await oidcServer(dialect);
    const created = await t.app.services.oidcClients.create({ name: "Wiki", redirect_uris: [redirectUri] }, meta);
    clientId = created.client.client_id;
    secret = created.client_secret ?? "";
    rp = await relyingParty(t.issuer, { client_id: clientId, client_secret: secret }, redirectUri);
  });
  afterAll(async () => t?.close());

  async function signedIn(twoFactor: boolean) {
    const name = uniqueName("rp");
    const browser = new CookieBrowser();
    if (!twoFactor) return { browser, token: (await register(t.app, name)).accessToken };
    const { secret: totp } = await enrolledUser(t.app, t.clock, name);
    return { browser, token: await browserSignIn(browser, t, name, totp) };
  }

  it("an unregistered redirect URI gets an error page from Tessera, never a redirect to it", async () => {
    for (const evil of [
      "http://evil.test/callback",
      `${redirectUri}/more`,
      `${redirectUri}?x=1`,
      "http://APP.test/callback",
    ]) {
      const { url } = await pkceRequest(rp.config);
      url.searchParams.set("redirect_uri", evil);
      const res = await fetch(url, { redirect: "manual" });
      expect(res.status, evil).toBe(400);
      expect(res.headers.get("location"), evil).toBeNull();
      expect(await res.text()).toContain("redirect_uri");
    }
  });

  it("an authorization request without PKCE, or with the plain method, gets no code", async () => {
    const { browser, token } = await signedIn(true);
    const missing = await pkceRequest(rp.config);
    missing.url.searchParams.delete("code_challenge");
    missing.url.searchParams.delete("code_challenge_method");
    const plain = await pkceRequest(rp.config);
    plain.url.searchParams.set("code_challenge_method", "plain");
    plain.url.searchParams.set("code_challenge", missing.verifier);
    for (const url of [missing.url, plain.url]) {
      const callback = expectCallback(await authorize(browser, t.issuer, url, token));
      expect(callback.searchParams.get("error")).toBe("invalid_request");
      expect(callback.searchParams.get("code")).toBeNull();
    }
  });

  it("a code exchanged with a wrong client secret, or a wrong PKCE verifier, is refused", async () => {
    const { browser, token } = await signedIn(true);
    const { url, verifier } = await pkceRequest(rp.config);
    const callback = expectCallback(await authorize(browser, t.issuer, url, token));
    const wrong = await relyingParty(
      t.issuer,
      { client_id: clientId, client_secret: `${secret.slice(0, -1)}x` },
      redirectUri,
    );
    await expect(
      client.authorizationCodeGrant(wrong.config, callback, { pkceCodeVerifier: verifier }),
    ).rejects.toMatchObject(invalidClient);
    await expect(
      client.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: client.randomPKCECodeVerifier() }),
    ).rejects.toMatchObject({ error: "invalid_grant" });
    // The secret in the database is only a hash: it does not authenticate either.
    const row = await t.db
      .selectFrom("oidc_client")
      .selectAll()
      .where("client_id", "=", clientId)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash).not.toBe(secret);
    const hashed = await relyingParty(
      t.issuer,
      { client_id: clientId, client_secret: row.secret_hash ?? "" },
      redirectUri,
    );
    const again = expectCallback(await authorize(browser, t.issuer, (await pkceRequest(rp.config)).url, token));
    await expect(
      client.authorizationCodeGrant(hashed.config, again, { pkceCodeVerifier: verifier }),
    ).rejects.toMatchObject(invalidClient);
  });

  it("replay: a code used twice, even at the same moment, yields tokens once and the grant is revoked", async () => {
    const { browser, token } = await signedIn(true);
    const { url, verifier } = await pkceRequest(rp.config);
    const callback = expectCallback(await authorize(browser, t.issuer, url, token));
    const results = await Promise.allSettled([
      client.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: verifier }),
      client.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: verifier }),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    await expect(
      client.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: verifier }),
    ).rejects.toMatchObject({
      error: "invalid_grant",
    });
    // The code's second use revoked what its first use gave.
    const tokens = (won[0] as PromiseFulfilledResult<client.TokenEndpointResponse>).value;
    await expect(client.fetchUserInfo(rp.config, tokens.access_token, client.skipSubjectCheck)).rejects.toThrow();
  });

  it("skipped step: a require_2fa client, or acr_values asking for it, gets no code from one factor", async () => {
    const strict = await t.app.services.oidcClients.create(
      { name: "Vault", redirect_uris: [redirectUri], require_2fa: true },
      meta,
    );
    const strictRp = await relyingParty(
      t.issuer,
      { client_id: strict.client.client_id, client_secret: strict.client_secret ?? "" },
      redirectUri,
    );
    const oneFactor = await signedIn(false);
    for (const url of [
      (await pkceRequest(strictRp.config)).url,
      (await pkceRequest(rp.config, { acr_values: "urn:tessera:aal2" })).url,
    ]) {
      const result = await authorize(oneFactor.browser, t.issuer, url, oneFactor.token);
      expect(result).toMatchObject({ refusal: { status: 401, body: { error: { code: "mfa_required" } } } });
    }
    // With the second factor, the same request gets its code, and the ID token says so.
    const twoFactor = await signedIn(true);
    const { url, verifier } = await pkceRequest(strictRp.config);
    const callback = expectCallback(await authorize(twoFactor.browser, t.issuer, url, twoFactor.token));
    const tokens = await client.authorizationCodeGrant(strictRp.config, callback, { pkceCodeVerifier: verifier });
    expect(tokens.claims()?.["acr"]).toBe("urn:tessera:aal2");
  });

  it("a one-factor sign-in gets acr aal1 from an ordinary client, after the consent step", async () => {
    const { browser, token } = await signedIn(false);
    const { url, verifier } = await pkceRequest(rp.config);
    const result = await authorize(browser, t.issuer, url, token);
    expect(result).toMatchObject({ steps: ["login", "consent"] });
    const tokens = await client.authorizationCodeGrant(rp.config, expectCallback(result), {
      pkceCodeVerifier: verifier,
    });
    expect(tokens.claims()).toMatchObject({ acr: "urn:tessera:aal1", amr: ["pwd"] });
  });
});
