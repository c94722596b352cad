/*
 * Attack: forged access tokens. An attacker who can read the public JWKS tries to mint or alter a
 * token that /api/user/me accepts: `alg: none`; HS256 signed with the public key as the HMAC secret
 * (algorithm confusion); a token past its `exp`; a token signed by their own Ed25519 key under our
 * `kid`; a genuine token with its payload edited (aal 1 → 2, another `sub`). Every one must be 401.
 */
import { createHmac } from "node:crypto";
import { base64url, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { register } from "../support/accounts.js";
import { call, expectError, type Json, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const encodeJson = (value: unknown): string => base64url.encode(JSON.stringify(value));

function splitToken(token: string): { header: Json; payload: Json; signature: string } {
  const [, , signature = ""] = token.split(".");
  return { header: decodeProtectedHeader(token) as Json, payload: decodeJwt(token) as Json, signature };
}

function hs256(header: Json, payload: Json, secret: Uint8Array | string): string {
  const input = `${encodeJson(header)}.${encodeJson(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

for (const dialect of testDialects()) {
  describe(`forged and altered access tokens are refused [${dialect.name}]`, () => {
    let t: TestApp;
    let genuine: string;
    let otherUserId: string;
    let publicJwk: Json;
    beforeAll(async () => {
      t = await appOn(dialect);
      genuine = (await register(t.app, "target")).accessToken;
      otherUserId = (await register(t.app, "bystander")).userId;
      const jwks = await call(t.app, "GET", "/.well-known/jwks.json");
      publicJwk = (jwks.body["keys"] as Json[])[0] ?? {};
    });
    afterAll(async () => t.close());

    const me = (token: string): ReturnType<typeof call> => call(t.app, "GET", "/api/user/me", { token });

    it("accepts the genuine token (control)", async () => {
      expect((await me(genuine)).status).toBe(200);
    });

    it("refuses an alg:none token carrying valid claims and our kid", async () => {
      const { header, payload } = splitToken(genuine);
      const unsigned = `${encodeJson({ ...header, alg: "none" })}.${encodeJson({ ...payload, aal: 2 })}.`;
      expectError(await me(unsigned), 401, "unauthorized");
      const unsignedSameClaims = `${encodeJson({ ...header, alg: "none" })}.${encodeJson(payload)}.`;
      expectError(await me(unsignedSameClaims), 401, "unauthorized");
      // Lower-case variants some libraries mishandle, and with the original signature still attached.
      for (const alg of ["None", "NONE", "nOnE"]) {
        expectError(
          await me(`${encodeJson({ ...header, alg })}.${encodeJson(payload)}.${splitToken(genuine).signature}`),
          401,
          "unauthorized",
        );
      }
    });

    it("refuses HS256 tokens signed with the public key bytes or the public JWK as the HMAC secret", async () => {
      const { header, payload } = splitToken(genuine);
      const forgedHeader = { ...header, alg: "HS256" };
      const forgedPayload = { ...payload, aal: 2 };
      const secrets: (Uint8Array | string)[] = [
        base64url.decode(String(publicJwk["x"])),
        String(publicJwk["x"]),
        JSON.stringify(publicJwk),
        JSON.stringify({ crv: publicJwk["crv"], kty: publicJwk["kty"], x: publicJwk["x"] }),
      ];
      for (const secret of secrets) {
        expectError(await me(hs256(forgedHeader, forgedPayload, secret)), 401, "unauthorized");
        expectError(await me(hs256(forgedHeader, payload, secret)), 401, "unauthorized");
      }
      // jose itself, with the public key bytes as an HS256 key.
      const viaJose = await new SignJWT(forgedPayload)
        .setProtectedHeader({ alg: "HS256", kid: String(header["kid"]) })
        .sign(base64url.decode(String(publicJwk["x"])));
      expectError(await me(viaJose), 401, "unauthorized");
    });

    it("refuses a token once ACCESS_TOKEN_TTL has passed, and accepts it one second before", async () => {
      const fresh = await register(t.app, "expiring");
      t.clock.advance(t.config.accessTokenTtlSeconds - 1);
      expect((await me(fresh.accessToken)).status).toBe(200);
      t.clock.advance(2);
      expectError(await me(fresh.accessToken), 401, "unauthorized");
      t.clock.advance(3600);
      expectError(await me(fresh.accessToken), 401, "unauthorized");
      genuine = (await register(t.app, "after-expiry")).accessToken;
    });

    it("refuses a token signed by another Ed25519 key under our kid", async () => {
      const { header, payload } = splitToken(genuine);
      const attacker = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
      const forged = await new SignJWT(payload)
        .setProtectedHeader({ alg: "EdDSA", kid: String(header["kid"]), typ: "JWT" })
        .sign(attacker.privateKey);
      expectError(await me(forged), 401, "unauthorized");
      // Also with the attacker's key embedded in the header (jwk / jku header injection).
      const embedded = await new SignJWT(payload)
        .setProtectedHeader({ alg: "EdDSA", kid: String(header["kid"]), jwk: await exportJWK(attacker.publicKey) })
        .sign(attacker.privateKey);
      expectError(await me(embedded), 401, "unauthorized");
      const jku = await new SignJWT(payload)
        .setProtectedHeader({ alg: "EdDSA", jku: "https://attacker.example/jwks.json" })
        .sign(attacker.privateKey);
      expectError(await me(jku), 401, "unauthorized");
    });

    it("refuses a genuine token whose payload was edited: aal 1 → 2, another sub, later exp", async () => {
      const { header, payload, signature } = splitToken(genuine);
      const edits: Json[] = [
        { ...payload, aal: 2 },
        { ...payload, amr: ["pwd", "otp"], aal: 2 },
        { ...payload, sub: otherUserId },
        { ...payload, exp: Number(payload["exp"]) + 86_400 },
      ];
      for (const edited of edits) {
        expectError(await me(`${encodeJson(header)}.${encodeJson(edited)}.${signature}`), 401, "unauthorized");
      }
      // Flipping one character of the signature.
      const last = signature.at(-2) === "A" ? "B" : "A";
      expectError(await me(`${genuine.slice(0, -2)}${last}${genuine.slice(-1)}`), 401, "unauthorized");
    });

    it("refuses an unknown kid and a token without a kid", async () => {
      const { header, payload, signature } = splitToken(genuine);
      expectError(
        await me(`${encodeJson({ ...header, kid: "no-such-key" })}.${encodeJson(payload)}.${signature}`),
        401,
        "unauthorized",
      );
      const { kid: _kid, ...noKid } = header;
      expectError(await me(`${encodeJson(noKid)}.${encodeJson(payload)}.${signature}`), 401, "unauthorized");
    });

    it("refuses garbage in the Authorization header without a 5xx", async () => {
      for (const token of [
        "",
        ".",
        "..",
        "a.b.c",
        "e30.e30.",
        `${"A".repeat(5000)}.e30.e30`,
        "eyJhbGciOiJub25lIn0.bnVsbA.",
        "eyJhbGciOiJFZERTQSJ9.W10.AAAA",
      ]) {
        const res = await call(t.app, "GET", "/api/user/me", { headers: { authorization: `Bearer ${token}` } });
        expect(res.status, token.slice(0, 40)).toBe(401);
      }
    });

    it("still accepts the genuine token after all the attempts (control)", async () => {
      expect((await me(genuine)).status).toBe(200);
      expect(str((await me(genuine)).body["username"])).toBe("after-expiry");
    });
  });
}
