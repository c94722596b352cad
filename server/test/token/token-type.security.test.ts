/*
 * Attack: a JWT that Tessera's own key signed, but that is not an access token for this server,
 * presented as one. The same Ed25519 keys will sign other tokens (OIDC ID tokens, which carry the
 * user's `sub` and a client's `aud`; tokens for another audience when several servers share a
 * TOKEN_AUDIENCE-less deployment), so a valid signature alone must not open the API (RFC 9068 §4,
 * RFC 8725 §3.11): the header must say `typ: at+jwt`, `aud` must be ours, `iss` ours, and every claim
 * the session checks rely on (`jti`, `sid`, `auth_time`, `aal`) present. Each variant is signed with
 * the real private key, read from the database as an insider would have it.
 */
import { createPrivateKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aadFor, createKeyring, parseSecretKeys } from "../../src/crypto/encryption.js";
import { appOn, type TestApp } from "../support/app.js";
import { register } from "../support/accounts.js";
import { call, expectError } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`tokens our key signed for something else are not access tokens [${dialect.name}] `, () => {
    let t: TestApp;
    let genuine: string;
    let key: { kid: string; privateKey: KeyObject };
    beforeAll(async () => {
      t = await appOn(dialect, { env: { TOKEN_AUDIENCE: "https://api.tessera.test" } });
      genuine = (await register(t.app, "owner")).accessToken;
      const kid = String(decodeProtectedHeader(genuine).kid);
      const row = await t.db.selectFrom("signing_key").selectAll().where("id", "=", kid).executeTakeFirstOrThrow();
      const keyring = createKeyring(parseSecretKeys(t.secretKey));
      const jwk: unknown = JSON.parse(
        keyring.decrypt(row.private_jwk_ciphertext, aadFor("signing_key", "private_jwk_ciphertext", kid)).toString(),
      );
      key = { kid, privateKey: createPrivateKey({ key: jwk as JsonWebKey, format: "jwk" }) };
    });
    afterAll(async () => t.close());

    const me = (token: string): ReturnType<typeof call> => call(t.app, "GET", "/api/user/me", { token });
    /** The genuine token's claims, changed, re-signed with our real key under header `typ`. */
    async function resigned(
      change: (claims: JWTPayload) => JWTPayload,
      typ: string | null = "at+jwt",
    ): Promise<string> {
      const header = { alg: "EdDSA", kid: key.kid, ...(typ === null ? {} : { typ }) };
      return new SignJWT(change({ ...decodeJwt(genuine) })).setProtectedHeader(header).sign(key.privateKey);
    }

    it("accepts the genuine token, whose aud is TOKEN_AUDIENCE, and the same claims re-signed (controls)", async () => {
      expect(decodeJwt(genuine).aud).toBe("https://api.tessera.test");
      expect((await me(genuine)).status).toBe(200);
      expect((await me(await resigned((claims) => claims))).status).toBe(200);
    });

    it("refuses our signature under another typ: an ID token (JWT), none, or a look-alike", async () => {
      for (const typ of ["JWT", "jwt", null, "application/jwt", "at+jwt+x", "id_token"]) {
        expectError(await me(await resigned((claims) => claims, typ)), 401, "unauthorized");
      }
      // RFC 9068 §4 allows the media type's full form.
      expect((await me(await resigned((claims) => claims, "application/at+jwt"))).status).toBe(200);
    });

    it("refuses our signature for another audience, and without one", async () => {
      const audiences: unknown[] = ["http://tessera.test", "https://grafana.example", ["https://grafana.example"], ""];
      for (const aud of audiences) {
        expectError(await me(await resigned((claims) => ({ ...claims, aud }) as JWTPayload)), 401, "unauthorized");
      }
      expectError(await me(await resigned(({ aud: _aud, ...claims }) => claims)), 401, "unauthorized");
    });

    it("refuses our signature from another issuer", async () => {
      expectError(
        await me(await resigned((claims) => ({ ...claims, iss: "https://evil.example" }))),
        401,
        "unauthorized",
      );
    });

    it("refuses our signature without jti, auth_time or sid, or with an auth_time that is not a number", async () => {
      expectError(await me(await resigned(({ jti: _jti, ...claims }) => claims)), 401, "unauthorized");
      expectError(await me(await resigned(({ auth_time: _at, ...claims }) => claims)), 401, "unauthorized");
      expectError(await me(await resigned(({ sid: _sid, ...claims }) => claims)), 401, "unauthorized");
      expectError(await me(await resigned((claims) => ({ ...claims, auth_time: "now" }))), 401, "unauthorized");
    });

    it("says why in WWW-Authenticate: invalid_token, with no token material in the description", async () => {
      const res = await me(await resigned((claims) => claims, "JWT"));
      const header = String(res.headers["www-authenticate"]);
      expect(header).toBe(
        'Bearer realm="tessera", error="invalid_token", ' +
          'error_description="The access token is invalid, expired or revoked"',
      );
    });
  });
}
