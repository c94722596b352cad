import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimsOf, register, strongPassword, uniqueName } from "../support/accounts.js";
import { testDialects } from "../support/dialects.js";
import { call, type Json } from "../support/http.js";
import { oidcServer, type OidcTestServer } from "../support/oidc.js";
import { offlineGrant, registeredApp, tryRefresh } from "../support/oidc-grant.js";

const meta = { ip: null, userAgent: null };
const newPassword = "an entirely new passphrase 7";

/** The token a link mailed to `to` carries (the dev outbox: NODE_ENV=development without SMTP_URL). */
async function mailedToken(t: OidcTestServer, to: string, path: string): Promise<string> {
  await t.app.services.mailer.idle();
  const messages = ((await call(t.app, "GET", "/dev/mail")).body["messages"] as Json[] | undefined) ?? [];
  const text = String(messages.find((m) => m["to"] === to && String(m["text"]).includes(path))?.["text"] ?? "");
  const token = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(text)?.[1];
  expect(token, text).toBeDefined();
  return token ?? "";
}

describe.each(testDialects())("OIDC grants end with the account's sessions ($name)", (dialect) => {
  let t: OidcTestServer;
  beforeAll(async () => {
    t = await oidcServer(dialect, { NODE_ENV: "development" });
  });
  afterAll(async () => t?.close());

  /** A user, an application holding their offline grant, and the refresh token it holds after one rotation. */
  async function appHoldingGrant(extra: Json = {}) {
    const name = uniqueName("granted");
    const user = await register(t.app, name, extra);
    const config = await registeredApp(t);
    const grant = await offlineGrant(t, config, user.accessToken);
    const rotated = await tryRefresh(config, grant.tokens.refresh_token ?? "");
    if (!("tokens" in rotated)) throw new Error(`refresh refused before the event: ${rotated.error}`);
    return { ...user, name, config, tokens: rotated.tokens };
  }

  async function expectGrantGone(held: Awaited<ReturnType<typeof appHoldingGrant>>): Promise<void> {
    expect(await tryRefresh(held.config, held.tokens.refresh_token ?? "")).toEqual({ error: "invalid_grant" });
    await expect(client.fetchUserInfo(held.config, held.tokens.access_token, held.userId)).rejects.toThrow();
    const rows = await t.db.selectFrom("oidc_payload").select("kind").where("user_id", "=", held.userId).execute();
    expect(rows).toEqual([]);
  }

  it("attack: refresh token from before a password reset is refused", async () => {
    const email = `${uniqueName("reset")}@example.org`;
    const held = await appHoldingGrant({ email });
    const verify = await call(t.app, "POST", "/api/auth/email/verify", {
      body: { token: await mailedToken(t, email, "/verify-email") },
    });
    expect(verify.status).toBe(200);
    expect((await call(t.app, "POST", "/api/auth/password/forgot", { body: { email } })).status).toBe(202);
    const reset = await call(t.app, "POST", "/api/auth/password/reset", {
      body: { token: await mailedToken(t, email, "/reset-password"), new_password: newPassword },
    });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    await expectGrantGone(held);
  });

  const events: Record<string, (user: { userId: string; accessToken: string }) => Promise<unknown>> = {
    "a password change": ({ userId, accessToken }) =>
      t.app.services.passwords.changePassword(
        { userId, sessionId: claimsOf(accessToken).sid },
        { current_password: strongPassword, new_password: newPassword },
        meta,
      ),
    "an admin lock": ({ userId }) => t.app.services.admin.setLocked(null, userId, true, meta),
    "an admin 2FA reset": ({ userId }) => t.app.services.admin.resetSecondFactor(null, userId, meta),
    "an admin's revoke sessions": ({ userId }) => t.app.services.admin.revokeSessions(null, userId, meta),
    "the account's deletion": ({ userId }) => t.app.services.account.deleteAccountNow(userId, meta),
  };
  it.each(Object.keys(events))("attack: refresh and access tokens from before %s are refused", async (event) => {
    const held = await appHoldingGrant();
    await events[event]?.(held);
    await expectGrantGone(held);
  });

  it("a grant is not ended by what ends no session: another user's password change", async () => {
    const kept = await appHoldingGrant();
    const other = await register(t.app, uniqueName("other"));
    await t.app.services.passwords.changePassword(
      { userId: other.userId, sessionId: claimsOf(other.accessToken).sid },
      { current_password: strongPassword, new_password: newPassword },
      meta,
    );
    expect(await tryRefresh(kept.config, kept.tokens.refresh_token ?? "")).toHaveProperty("tokens");
  });
});
