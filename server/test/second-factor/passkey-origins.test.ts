import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { relyingParty } from "../../src/modules/second-factor/passkey/relying-party.js";
import { uniqueName } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { expectError, type Json } from "../support/http.js";
import { passkeyUser, passwordlessLogin, passwordlessOptions } from "../support/passkeys.js";

/*
 * The relying party (SPEC "Passkeys"): RP ID = PUBLIC_URL's host, origins = PUBLIC_URL's plus WEBAUTHN_ORIGINS.
 * An app on another origin of the same site (a native app's or a second front end's) is allowed only when listed.
 */

const [sqlite] = testDialects();

describe("passkey origins", () => {
  let t: TestApp;
  beforeAll(async () => {
    if (sqlite === undefined) throw new Error("no SQLite dialect");
    t = await appOn(sqlite, { env: { WEBAUTHN_ORIGINS: "https://app.tessera.test, https://tessera.test:8443/" } });
  });
  afterAll(async () => t.close());

  it("accepts an origin listed in WEBAUTHN_ORIGINS and refuses one that is not", async () => {
    const { authenticator } = await passkeyUser(t, uniqueName("origins"));
    for (const origin of ["https://app.tessera.test", "https://tessera.test:8443"]) {
      const res = await passwordlessLogin(t, authenticator.get(await passwordlessOptions(t), { origin }) as Json);
      expect(res.status, `${origin}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    const other = authenticator.get(await passwordlessOptions(t), { origin: "https://evil.tessera.test" }) as Json;
    expectError(await passwordlessLogin(t, other), 401, "invalid_passkey");
  });

  it("takes the RP ID from PUBLIC_URL's host and the origins without paths", () => {
    const config = loadConfig(
      { PUBLIC_URL: "https://auth.example.org/", WEBAUTHN_ORIGINS: "https://app.example.org/path" },
      { webDist: null },
    );
    expect(config.webauthnOrigins).toEqual(["https://app.example.org"]);
    expect(relyingParty(config)).toEqual({
      id: "auth.example.org",
      name: "Tessera",
      origins: ["https://auth.example.org", "https://app.example.org"],
    });
  });

  it("stops on a WEBAUTHN_ORIGINS entry that is not an http(s) URL, naming the variable", () => {
    expect(() => loadConfig({ WEBAUTHN_ORIGINS: "app.example.org" }, { webDist: null })).toThrow(/WEBAUTHN_ORIGINS/);
  });
});
