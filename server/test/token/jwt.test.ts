import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock.js";
import { appOn, buildTestApp, type TestApp } from "../support/app.js";
import { enrolledUser, login, loginToken, register, totpCode } from "../support/accounts.js";
import { call, type Json, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

/** The real time, frozen: an outside verifier checks `exp` against its own (real) clock. */
const realNowSeconds = (): number => Math.floor(Date.now() / 1000);

for (const dialect of testDialects()) {
  describe(`access tokens checked by an independent JWKS verifier [${dialect.name}]`, () => {
    let t: TestApp;
    let jwksUrl: URL;
    beforeAll(async () => {
      t = await appOn(dialect, { clock: fixedClock(realNowSeconds()) });
      await t.app.listen({ port: 0, host: "127.0.0.1" });
      const { port } = t.app.server.address() as AddressInfo;
      jwksUrl = new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`);
    });
    afterAll(async () => t.close());

    it("publishes Ed25519 public keys only, with kid, alg and use", async () => {
      const res = await fetch(jwksUrl);
      expect(res.status).toBe(200);
      const { keys } = (await res.json()) as { keys: Json[] };
      expect(keys.length).toBeGreaterThanOrEqual(1);
      for (const key of keys) {
        expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
        expect(typeof key["kid"]).toBe("string");
        expect(key["d"], "private key material in the JWKS").toBeUndefined();
      }
    });

    it("issues a password-login token that jose verifies against the JWKS, with every spec claim", async () => {
      const { accessToken, userId } = await register(t.app, "verified");
      const jwks = createRemoteJWKSet(jwksUrl);
      // RFC 9068 §4: a resource server checks the type, the issuer and its own audience.
      const { payload, protectedHeader } = await jwtVerify(accessToken, jwks, {
        issuer: t.config.publicUrl,
        audience: t.config.publicUrl,
        typ: "at+jwt",
        algorithms: ["EdDSA"],
      });
      expect(protectedHeader.alg).toBe("EdDSA");
      expect(protectedHeader.typ).toBe("at+jwt");
      expect(typeof protectedHeader.kid).toBe("string");
      expect(payload.iss).toBe("http://tessera.test");
      expect(payload.aud).toBe("http://tessera.test");
      expect(payload.sub).toBe(userId);
      expect(typeof payload["sid"]).toBe("string");
      expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(payload.iat).toBe(Math.floor(t.clock.now() / 1000));
      expect(payload["auth_time"]).toBe(payload.iat);
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
      expect(payload["amr"]).toEqual(["pwd"]);
      expect(payload["aal"]).toBe(1);
      // `roles` (the user's, here none): SPEC §2 "Admin and policy"; `enrollment_required` only when the policy holds.
      expect(payload["roles"]).toEqual([]);
      expect(Object.keys(payload).sort()).toEqual(
        ["aal", "amr", "aud", "auth_time", "exp", "iat", "iss", "jti", "roles", "sid", "sub"].sort(),
      );
    });

    it("gives every token its own jti, also two issued in the same second for one session", async () => {
      const { accessToken, refreshToken } = await register(t.app, "unique-jti");
      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refreshToken } });
      const again = await login(t.app, "unique-jti");
      const jtis = [accessToken, str(refreshed.body["access_token"]), str(again.body["access_token"])].map(
        (token) => decodeJwt(token).jti,
      );
      expect(new Set(jtis).size).toBe(3);
      expect(decodeJwt(str(refreshed.body["access_token"])).sid).toBe(decodeJwt(accessToken).sid);
    });

    it("is refused by the outside verifier for another audience", async () => {
      const { accessToken } = await register(t.app, "wrongaudience");
      await expect(
        jwtVerify(accessToken, createRemoteJWKSet(jwksUrl), {
          issuer: t.config.publicUrl,
          audience: "https://app.example",
        }),
      ).rejects.toThrow(/aud/);
    });

    it("issues aal 2 with amr pwd+otp after a TOTP login, also verifiable outside", async () => {
      const { secret } = await enrolledUser(t.app, t.clock, "verified2fa");
      const res = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: await loginToken(t.app, "verified2fa"), code: totpCode(secret, t.clock) },
      });
      expect(res.status).toBe(200);
      const { payload } = await jwtVerify(str(res.body["access_token"]), createRemoteJWKSet(jwksUrl), {
        issuer: t.config.publicUrl,
        algorithms: ["EdDSA"],
        currentDate: new Date(t.clock.now()),
      });
      expect(payload["aal"]).toBe(2);
      expect(payload["amr"]).toEqual(["pwd", "otp"]);
    });

    it("is refused by the outside verifier for another issuer", async () => {
      const { accessToken } = await register(t.app, "wrongissuer");
      await expect(
        jwtVerify(accessToken, createRemoteJWKSet(jwksUrl), { issuer: "https://someone-else.example" }),
      ).rejects.toThrow();
    });
  });

  describe(`two instances on one database [${dialect.name}]`, () => {
    const clock = fixedClock(realNowSeconds());
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      a = await appOn(dialect, { clock, groupCommit: false });
      b = await buildTestApp({ databaseUrl: a.databaseUrl, secretKey: a.secretKey, clock, groupCommit: false });
    });
    afterAll(async () => {
      await b.close();
      await a.close();
    });

    it("accept each other's access and refresh tokens", async () => {
      const fromA = await register(a.app, "roamer");
      expect((await call(b.app, "GET", "/api/user/me", { token: fromA.accessToken })).status).toBe(200);
      const fromB = await login(b.app, "roamer");
      expect(fromB.status).toBe(200);
      expect((await call(a.app, "GET", "/api/user/me", { token: str(fromB.body["access_token"]) })).status).toBe(200);
      const refreshed = await call(b.app, "POST", "/api/auth/token/refresh", {
        body: { refresh_token: fromA.refreshToken },
      });
      expect(refreshed.status).toBe(200);
      // A session revoked on one instance is refused on the other at once.
      expect((await call(a.app, "POST", "/api/auth/logout", { token: str(fromB.body["access_token"]) })).status).toBe(
        204,
      );
      expect((await call(b.app, "GET", "/api/user/me", { token: str(fromB.body["access_token"]) })).status).toBe(401);
    });

    it("share one signing key: both publish the same JWKS", async () => {
      const [jwksA, jwksB] = await Promise.all([
        call(a.app, "GET", "/.well-known/jwks.json"),
        call(b.app, "GET", "/.well-known/jwks.json"),
      ]);
      expect(jwksA.body).toEqual(jwksB.body);
    });

    it("keep old tokens valid on both after a key rotation, and verify new tokens on the other instance", async () => {
      const before = await login(a.app, "roamer");
      const oldToken = str(before.body["access_token"]);
      const oldKid = decodeProtectedHeader(oldToken).kid;

      const newKid = await a.app.services.tokens.rotate();
      expect(newKid).not.toBe(oldKid);
      // Time passes between the rotation and the next login, as it does when an operator runs `tessera keys rotate`.
      clock.advance(10);

      for (const app of [a.app, b.app])
        expect((await call(app, "GET", "/api/user/me", { token: oldToken })).status).toBe(200);
      const after = await login(a.app, "roamer");
      const newToken = str(after.body["access_token"]);
      expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
      expect((await call(b.app, "GET", "/api/user/me", { token: newToken })).status).toBe(200);
      expect((await call(a.app, "GET", "/api/user/me", { token: newToken })).status).toBe(200);
      // b now publishes both keys, new first, so outside verifiers see the new key too.
      const kids = ((await call(b.app, "GET", "/.well-known/jwks.json")).body["keys"] as Json[]).map((k) => k["kid"]);
      expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
      // b also signs with the new key once it has reloaded.
      const fromB = await login(b.app, "roamer");
      expect(decodeProtectedHeader(str(fromB.body["access_token"])).kid).toBe(newKid);
    });
  });
}
