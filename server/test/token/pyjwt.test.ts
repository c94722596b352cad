import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock.js";
import { appOn, type TestApp } from "../support/app.js";
import { register } from "../support/accounts.js";
import { testDialects } from "../support/dialects.js";
import { pythonWithPyJWT, runPython } from "../support/python.js";

/*
 * SPEC "Tokens": any standard JWT library verifies Tessera's access tokens with an audience. Here
 * Python's PyJWT (Debian's python3-jwt) does, as another application would: it fetches the JWKS
 * from the server on a real port with PyJWKClient, checks the signature, `iss`, `aud`, `exp` and
 * the required claims, and the header's `typ` (RFC 9068 §4; PyJWT does not check it itself).
 */
const verifyScript = String.raw`
import json, sys, jwt
jwks_url, token, audience, issuer = sys.argv[1:5]
header = jwt.get_unverified_header(token)
try:
    if header.get("typ") != "at+jwt":
        raise jwt.InvalidTokenError("typ is not at+jwt")
    key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], audience=audience, issuer=issuer,
                        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]})
except jwt.PyJWTError as error:
    print(json.dumps({"refused": type(error).__name__}))
    sys.exit(2)
print(json.dumps({"header": header, "claims": claims}))
`;

const python = pythonWithPyJWT();
const ci = process.env["CI"] === "true" || process.env["CI"] === "1";
const audience = "https://api.tessera.test";

// Outside CI a machine without python3-jwt skips these, saying why; under CI they must run (.ci/run installs it).
const skip = python === null && !ci;

describe.skipIf(skip)(
  `an access token verified by Python's PyJWT${skip ? " (skipped: python3-jwt is not installed)" : ""}`,
  () => {
    let t: TestApp;
    let jwksUrl: string;
    beforeAll(async () => {
      if (python === null)
        throw new Error("CI must run the PyJWT check: no python3 with PyJWT (apt-get install python3-jwt)");
      const [sqlite] = testDialects();
      if (sqlite === undefined) throw new Error("no SQLite dialect");
      // PyJWT checks exp and iat against the real clock.
      t = await appOn(sqlite, { clock: fixedClock(Math.floor(Date.now() / 1000)), env: { TOKEN_AUDIENCE: audience } });
      await t.app.listen({ port: 0, host: "127.0.0.1" });
      jwksUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/.well-known/jwks.json`;
    });
    afterAll(async () => t?.close());

    it("verifies the signature, issuer, audience and claims, and reads auth_time, amr and aal", async () => {
      const { accessToken, userId } = await register(t.app, "python-client");
      const run = await runPython(python ?? "", verifyScript, [jwksUrl, accessToken, audience, t.config.publicUrl]);
      expect(run.code, run.stderr + run.stdout).toBe(0);
      const { header, claims } = JSON.parse(run.stdout) as {
        header: Record<string, unknown>;
        claims: Record<string, unknown>;
      };
      expect(header).toMatchObject({ alg: "EdDSA", typ: "at+jwt" });
      expect(claims).toMatchObject({ iss: "http://tessera.test", aud: audience, sub: userId, amr: ["pwd"], aal: 1 });
      expect(claims["auth_time"]).toBe(claims["iat"]);
      expect(typeof claims["jti"]).toBe("string");
    });

    it("refuses the token for another audience and from another issuer", async () => {
      const { accessToken } = await register(t.app, "python-other");
      const wrongAudience = await runPython(python ?? "", verifyScript, [
        jwksUrl,
        accessToken,
        "https://grafana.example",
        t.config.publicUrl,
      ]);
      expect(wrongAudience.code).toBe(2);
      expect(JSON.parse(wrongAudience.stdout)).toEqual({ refused: "InvalidAudienceError" });
      const wrongIssuer = await runPython(python ?? "", verifyScript, [
        jwksUrl,
        accessToken,
        audience,
        "https://evil.example",
      ]);
      expect(wrongIssuer.code).toBe(2);
      expect(JSON.parse(wrongIssuer.stdout)).toEqual({ refused: "InvalidIssuerError" });
    });
  },
);
