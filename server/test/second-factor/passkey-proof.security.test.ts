import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { login, loginToken, strongPassword, uniqueName } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { lockState } from "../support/database.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, str, type Json, type Reply } from "../support/http.js";
import { passkeyUser, secondFactorOptions, type Options } from "../support/passkeys.js";

/*
 * The routes whose body carries the proof (changing the password, deleting the account, turning two-factor off,
 * new recovery codes) take a passkey assertion where they take a code (SPEC "Re-authentication"), so an account
 * whose only second factor is a passkey needs no code. Attacks: an assertion replayed from one of these routes on
 * another, one signed by someone else's authenticator, one answering someone else's challenge or a login's
 * challenge. Each is refused with 401 invalid_passkey, changes nothing and counts towards the owner's lockout.
 */

for (const dialect of testDialects()) {
  describe(`a passkey proves it is the owner on the routes that re-check [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());
    const refused = (res: Reply): void => expectError(res, 401, "invalid_passkey");

    async function reauthOptions(token: string): Promise<Options> {
      const res = await call(t.app, "POST", "/api/auth/passkeys/reauth/options", { token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as Options;
    }
    const mfaEnabled = async (userId: string): Promise<number> =>
      Number(
        (await t.db.selectFrom("user").select("mfa_enabled").where("id", "=", userId).executeTakeFirstOrThrow())
          .mfa_enabled,
      );

    it("changes the password and replaces the recovery codes with a passkey", async () => {
      const name = uniqueName("pk-password");
      const { accessToken, authenticator, recoveryCodes } = await passkeyUser(t, name);
      const newPassword = "a brand new long passphrase";
      const changed = await call(t.app, "POST", "/api/user/password", {
        token: accessToken,
        body: {
          current_password: strongPassword,
          new_password: newPassword,
          webauthn: authenticator.get(await reauthOptions(accessToken)) as Json,
        },
      });
      expect(changed.status, JSON.stringify(changed.body)).toBe(204);
      expect((await login(t.app, name, newPassword)).body["mfa_required"]).toBe(true);
      expect((await login(t.app, name)).status).toBe(401);

      const fresh = await call(t.app, "POST", "/api/auth/2fa/recovery-codes", {
        token: accessToken,
        body: { password: newPassword, webauthn: authenticator.get(await reauthOptions(accessToken)) as Json },
      });
      expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
      const codes = fresh.body["recovery_codes"] as string[];
      expect(codes).toHaveLength(10);
      expect(codes).not.toContain(recoveryCodes[0]);
    });

    it("turns two-factor off with a passkey, and deletes the account with one", async () => {
      const off = await passkeyUser(t, uniqueName("pk-disable"));
      const disabled = await call(t.app, "POST", "/api/auth/2fa/disable", {
        token: off.accessToken,
        body: { password: strongPassword, webauthn: off.authenticator.get(await reauthOptions(off.accessToken)) },
      });
      expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
      expect(disabled.body).toEqual({ mfa_enabled: false });
      expect(await mfaEnabled(off.userId)).toBe(0);

      const gone = await passkeyUser(t, uniqueName("pk-delete"));
      const deleted = await call(t.app, "DELETE", "/api/user", {
        token: gone.accessToken,
        body: { password: strongPassword, webauthn: gone.authenticator.get(await reauthOptions(gone.accessToken)) },
      });
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
      expect(await t.db.selectFrom("user").select("id").where("id", "=", gone.userId).execute()).toEqual([]);
    });

    it("still needs a second factor: no code and no passkey is refused", async () => {
      const { accessToken, userId } = await passkeyUser(t, uniqueName("pk-none"));
      const body = { password: strongPassword };
      expectError(await call(t.app, "DELETE", "/api/user", { token: accessToken, body }), 401, "mfa_required");
      expectError(
        await call(t.app, "POST", "/api/user/password", {
          token: accessToken,
          body: { current_password: strongPassword, new_password: "another long passphrase" },
        }),
        401,
        "mfa_required",
      );
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/disable", { token: accessToken, body }),
        422,
        "validation_failed",
      );
      expect(await mfaEnabled(userId)).toBe(1);
    });

    it("refuses an assertion replayed from one route on another, and counts it", async () => {
      const { accessToken, authenticator, userId } = await passkeyUser(t, uniqueName("pk-replay"));
      const assertion = authenticator.get(await reauthOptions(accessToken)) as Json;
      const used = await call(t.app, "POST", "/api/auth/2fa/recovery-codes", {
        token: accessToken,
        body: { password: strongPassword, webauthn: assertion },
      });
      expect(used.status, JSON.stringify(used.body)).toBe(200);
      const before = (await lockState(t, userId)).failed;
      refused(
        await call(t.app, "POST", "/api/auth/2fa/disable", {
          token: accessToken,
          body: { password: strongPassword, webauthn: assertion },
        }),
      );
      refused(
        await call(t.app, "DELETE", "/api/user", {
          token: accessToken,
          body: { password: strongPassword, webauthn: assertion },
        }),
      );
      expect((await lockState(t, userId)).failed).toBe(before + 2);
      expect(await mfaEnabled(userId)).toBe(1);
    });

    it("refuses a foreign assertion: another's authenticator, another's challenge, a login's challenge", async () => {
      const victim = uniqueName("pk-victim");
      const { accessToken, authenticator, userId } = await passkeyUser(t, victim);
      const attackerName = uniqueName("pk-attacker");
      const attacker = { ...(await passkeyUser(t, attackerName)), username: attackerName };
      const before = (await lockState(t, userId)).failed;
      const disable = (webauthn: unknown): Promise<Reply> =>
        call(t.app, "POST", "/api/auth/2fa/disable", {
          token: accessToken,
          body: { password: strongPassword, webauthn },
        });
      // The attacker's own passkey over the victim's challenge.
      refused(await disable(attacker.authenticator.get(await reauthOptions(accessToken))));
      // The victim's passkey over a challenge made for the attacker's session (a relayed ceremony).
      refused(
        await disable(
          authenticator.get(await reauthOptions(attacker.accessToken), {
            credential: authenticator.credentials[0],
          }),
        ),
      );
      // The victim's passkey over the challenge of a login's second step.
      refused(await disable(authenticator.get(await secondFactorOptions(t, await loginToken(t.app, victim)))));
      expect((await lockState(t, userId)).failed).toBe(before + 3);
      expect(await mfaEnabled(userId)).toBe(1);
      // The owner's own proof still works, and the attacker's account is untouched.
      const ok = await disable(authenticator.get(await reauthOptions(accessToken)));
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(await mfaEnabled(attacker.userId)).toBe(1);
      expect(str((await login(t.app, victim)).body["access_token"]).length).toBeGreaterThan(0);
      expect(str((await login(t.app, attacker.username)).body["login_token"]).length).toBeGreaterThan(0);
    });
  });
}
