import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { register, uniqueName } from "../support/accounts.js";
import { testDialects } from "../support/dialects.js";
import { oidcServer, type OidcTestServer } from "../support/oidc.js";
import { offlineGrant, registeredApp, tryRefresh } from "../support/oidc-grant.js";

describe.each(testDialects())("OIDC storage read by an attacker ($name)", (dialect) => {
  let t: OidcTestServer;
  beforeAll(async () => {
    t = await oidcServer(dialect);
  });
  afterAll(async () => t?.close());

  it("attack: a copy of oidc_payload holds no issued code or token, and nothing in it works as one", async () => {
    const { userId, accessToken } = await register(t.app, uniqueName("reader"));
    const config = await registeredApp(t);
    const grant = await offlineGrant(t, config, accessToken);
    const first = grant.tokens.refresh_token ?? "";
    const refreshed = await tryRefresh(config, first);
    if (!("tokens" in refreshed)) throw new Error(`refresh refused: ${refreshed.error}`);
    const second = refreshed.tokens.refresh_token ?? "";
    expect(second).not.toBe(first);
    const issued = [grant.code, grant.tokens.access_token, first, refreshed.tokens.access_token, second];

    const rows = await t.db.selectFrom("oidc_payload").selectAll().execute();
    const kinds = new Set(rows.map((row) => row.kind));
    for (const kind of ["AuthorizationCode", "AccessToken", "RefreshToken", "Grant", "Session"]) {
      expect(kinds, `a ${kind} is stored`).toContain(kind);
    }
    const cells = rows.flatMap((row) => Object.values(row).map(String));
    for (const secret of issued) {
      expect(secret.length).toBeGreaterThan(20);
      expect(cells.filter((cell) => cell.includes(secret))).toEqual([]);
    }
    // The payloads are ciphertext: not even the account or the client shows inside them.
    for (const row of rows) {
      expect(row.payload).toMatch(/^v1:/);
      expect(row.payload).not.toContain(userId);
    }

    // What the copy does hold is no use at the token or userinfo endpoints.
    for (const row of rows.filter((r) => r.kind === "RefreshToken" || r.kind === "AuthorizationCode")) {
      expect(await tryRefresh(config, row.id)).toEqual({ error: "invalid_grant" });
    }
    for (const row of rows.filter((r) => r.kind === "AccessToken")) {
      await expect(client.fetchUserInfo(config, row.id, userId)).rejects.toThrow();
    }

    // The application itself carries on: the current refresh token and access token still work.
    const again = await tryRefresh(config, second);
    expect(again).toHaveProperty("tokens");
    const latest = "tokens" in again ? again.tokens.access_token : "";
    expect((await client.fetchUserInfo(config, latest, userId)).sub).toBe(userId);
  });

  it("attack: a document moved onto another row's key does not open there", async () => {
    const { accessToken } = await register(t.app, uniqueName("mover"));
    const config = await registeredApp(t, "Mover");
    const refreshRows = async () =>
      t.db.selectFrom("oidc_payload").selectAll().where("kind", "=", "RefreshToken").execute();
    const newRow = async (known: Set<string>) => {
      const [row, ...more] = (await refreshRows()).filter((r) => !known.has(r.id));
      if (row === undefined || more.length > 0) throw new Error("one new refresh token row expected");
      known.add(row.id);
      return row;
    };
    const known = new Set((await refreshRows()).map((r) => r.id));
    const a = await offlineGrant(t, config, accessToken);
    const rowA = await newRow(known);
    const b = await offlineGrant(t, config, accessToken);
    const rowB = await newRow(known);
    // Someone who can write the table copies one refresh token's document onto the other's row.
    await t.db.updateTable("oidc_payload").set({ payload: rowA.payload }).where("id", "=", rowB.id).execute();
    expect(await tryRefresh(config, b.tokens.refresh_token ?? "")).toEqual({ error: "invalid_grant" });
    expect(await tryRefresh(config, a.tokens.refresh_token ?? "")).toHaveProperty("tokens");
  });
});
