import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginToken, uniqueName } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { SoftAuthenticator } from "../support/authenticator.js";
import { lockState } from "../support/database.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, type Json, type Reply } from "../support/http.js";
import {
  addPasskey,
  noticeRecorder,
  passkeyStep,
  passkeyUser,
  passwordlessLogin,
  passwordlessOptions,
  registrationOptions,
  secondFactorOptions,
} from "../support/passkeys.js";

/*
 * Attacks on passkeys (SPEC "Passkeys"): a phishing site relaying assertions (another origin, another RP ID),
 * a stolen authenticator without its PIN (no user verification), replays of challenges and assertions, a cloned
 * authenticator (a counter going backwards), a credential that was removed or belongs to someone else, a challenge
 * made for another ceremony, racing one challenge, and guessing until the lockout. Every refusal is 401
 * invalid_passkey (or 429 once locked), never a 5xx.
 */

for (const dialect of testDialects()) {
  describe(`passkey attacks are refused [${dialect.name}]`, () => {
    let t: TestApp;
    const { notices, notifier } = noticeRecorder();
    beforeAll(async () => {
      t = await appOn(dialect, { notifier });
    });
    afterAll(async () => t.close());
    const refused = (res: Reply): void => expectError(res, 401, "invalid_passkey");

    /** The second step with an assertion over the options of a fresh login token. */
    async function secondStep(name: string, sign: (options: Json & { challenge: string }) => unknown): Promise<Reply> {
      const token = await loginToken(t.app, name);
      return passkeyStep(t, token, sign(await secondFactorOptions(t, token)) as Json);
    }

    it("refuses an assertion made for another origin (a phishing site relaying the ceremony)", async () => {
      const name = uniqueName("origin");
      const { authenticator } = await passkeyUser(t, name);
      refused(await secondStep(name, (o) => authenticator.get(o, { origin: "https://tessera.test.evil.example" })));
      refused(
        await passwordlessLogin(
          t,
          authenticator.get(await passwordlessOptions(t), { origin: "http://evil.example" }) as Json,
        ),
      );
      // A registration from another origin stores nothing.
      const { accessToken } = await passkeyUser(t, uniqueName("origin-reg"));
      const options = await registrationOptions(t, accessToken);
      const response = new SoftAuthenticator("http://evil.example").create(options as never);
      refused(
        await call(t.app, "POST", "/api/auth/passkeys/register/verify", { token: accessToken, body: { response } }),
      );
      expect((await secondStep(name, (o) => authenticator.get(o))).status).toBe(200);
    });

    it("refuses an assertion whose authenticator data hashes another RP ID", async () => {
      const name = uniqueName("rpid");
      const { authenticator } = await passkeyUser(t, name);
      refused(await secondStep(name, (o) => authenticator.get(o, { rpId: "evil.example" })));
      refused(await passwordlessLogin(t, authenticator.get(await passwordlessOptions(t), { rpId: "test" }) as Json));
    });

    it("refuses a passwordless sign-in without user verification (a stolen key without its PIN)", async () => {
      const name = uniqueName("uv");
      const { authenticator } = await passkeyUser(t, name);
      refused(
        await passwordlessLogin(t, authenticator.get(await passwordlessOptions(t), { userVerified: false }) as Json),
      );
      // As a second factor after the password, presence is enough.
      expect((await secondStep(name, (o) => authenticator.get(o, { userVerified: false }))).status).toBe(200);
    });

    it("refuses a replayed challenge and a replayed assertion", async () => {
      const name = uniqueName("replay");
      const { authenticator } = await passkeyUser(t, name);
      const options = await passwordlessOptions(t);
      const assertion = authenticator.get(options) as Json;
      expect((await passwordlessLogin(t, assertion)).status).toBe(200);
      refused(await passwordlessLogin(t, assertion)); // the same assertion again
      refused(await passwordlessLogin(t, authenticator.get(options) as Json)); // a new signature, the same challenge
      // The second step: an assertion for one login token, replayed on the next.
      const token = await loginToken(t.app, name);
      const step = authenticator.get(await secondFactorOptions(t, token)) as Json;
      expect((await passkeyStep(t, token, step)).status).toBe(200);
      refused(await passkeyStep(t, await loginToken(t.app, name), step));
    });

    it("refuses a counter that went backwards (a cloned authenticator): audited and told to the owner", async () => {
      const name = uniqueName("clone");
      const { authenticator, userId } = await passkeyUser(t, name);
      for (let i = 0; i < 3; i += 1)
        expect((await passwordlessLogin(t, authenticator.get(await passwordlessOptions(t)) as Json)).status).toBe(200);
      const clone = authenticator.get(await passwordlessOptions(t), { counter: 2 }) as Json;
      refused(await passwordlessLogin(t, clone));
      refused(await secondStep(name, (o) => authenticator.get(o, { counter: 3 })));
      const events = await t.db.selectFrom("audit_event").select("type").where("user_id", "=", userId).execute();
      expect(events.filter((e) => e.type === "passkey_clone_suspected")).toHaveLength(2);
      expect(notices.filter((n) => n.username === name && n.kind === "passkey_clone_suspected")).toHaveLength(2);
      // The real authenticator goes on working.
      expect((await passwordlessLogin(t, authenticator.get(await passwordlessOptions(t)) as Json)).status).toBe(200);
    });

    it("allows an authenticator whose counter stays 0", async () => {
      const name = uniqueName("zero");
      const { accessToken } = await passkeyUser(t, name);
      const synced = new SoftAuthenticator("http://tessera.test", 0);
      expect((await addPasskey(t, accessToken, synced)).status).toBe(200);
      for (let i = 0; i < 2; i += 1)
        expect((await passwordlessLogin(t, synced.get(await passwordlessOptions(t)) as Json)).status).toBe(200);
    });

    it("refuses a removed passkey", async () => {
      const name = uniqueName("removed");
      const { authenticator, accessToken, passkeyId } = await passkeyUser(t, name);
      const spare = new SoftAuthenticator();
      expect((await addPasskey(t, accessToken, spare)).status).toBe(200);
      expect((await call(t.app, "DELETE", `/api/auth/passkeys/${passkeyId}`, { token: accessToken })).status).toBe(200);
      const [removed] = authenticator.credentials;
      refused(await passwordlessLogin(t, authenticator.get(await passwordlessOptions(t)) as Json));
      refused(await secondStep(name, (o) => authenticator.get(o, { credential: removed })));
      expect((await secondStep(name, (o) => spare.get(o))).status).toBe(200);
    });

    it("refuses another user's passkey on this user's login token, and counts it against this user", async () => {
      const victim = uniqueName("victim");
      const { userId } = await passkeyUser(t, victim);
      const attacker = await passkeyUser(t, uniqueName("attacker"));
      const before = (await lockState(t, userId)).failed;
      refused(await secondStep(victim, (o) => attacker.authenticator.get(o)));
      expect((await lockState(t, userId)).failed).toBe(before + 1);
    });

    it("refuses a registration challenge used to sign in, and a second-step challenge used elsewhere", async () => {
      const name = uniqueName("purpose");
      const { authenticator, accessToken } = await passkeyUser(t, name);
      const registration = await registrationOptions(t, accessToken);
      const asAssertion = { challenge: registration.challenge, rpId: "tessera.test" };
      refused(await passwordlessLogin(t, authenticator.get(asAssertion) as Json));
      refused(await secondStep(name, () => authenticator.get(asAssertion)));
      // Options asked for one login token do not answer another one's, nor a passwordless sign-in.
      const first = await loginToken(t.app, name);
      const options = await secondFactorOptions(t, first);
      refused(await passkeyStep(t, await loginToken(t.app, name), authenticator.get(options) as Json));
      refused(await passwordlessLogin(t, authenticator.get(options) as Json));
    });

    it("lets one of many parallel uses of one challenge through", async () => {
      const name = uniqueName("race");
      const { authenticator } = await passkeyUser(t, name);
      const options = await passwordlessOptions(t);
      const assertions = Array.from({ length: 8 }, () => authenticator.get(options) as Json);
      const replies = await Promise.all(assertions.map((a) => passwordlessLogin(t, a)));
      expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
      for (const r of replies.filter((r) => r.status !== 200)) refused(r);
    });

    it("counts passkey failures towards the shared lockout: locked, even a good passkey gets 429", async () => {
      const name = uniqueName("lockout");
      const { authenticator, userId } = await passkeyUser(t, name);
      for (let i = 0; i < 10; i += 1)
        refused(
          await passwordlessLogin(
            t,
            authenticator.get(await passwordlessOptions(t), { origin: "http://evil.example" }) as Json,
          ),
        );
      expect((await lockState(t, userId)).failed).toBe(10);
      expectError(
        await passwordlessLogin(t, authenticator.get(await passwordlessOptions(t)) as Json),
        429,
        "rate_limited",
      );
      expectError(await secondStep(name, (o) => authenticator.get(o)), 429, "rate_limited");
    });

    it("answers malformed assertions with 4xx, never a 5xx", async () => {
      const name = uniqueName("malformed");
      const { authenticator } = await passkeyUser(t, name);
      const good = authenticator.get(await passwordlessOptions(t)) as Json & { response: Json };
      const bodies: Json[] = [
        { ...good, response: { ...good.response, clientDataJSON: "bm90IGpzb24" } },
        { ...good, response: { ...good.response, authenticatorData: "AA" } },
        { ...good, response: { ...good.response, signature: "AAAA" } },
        { ...good, id: "AAAA", rawId: "AAAA" },
      ];
      for (const body of bodies) refused(await passwordlessLogin(t, body));
      expectError(await passwordlessLogin(t, { id: "x" }), 422, "validation_failed");
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/login", { body: { login_token: "x", webauthn: 5 } }),
        422,
        "validation_failed",
      );
    });
  });
}
