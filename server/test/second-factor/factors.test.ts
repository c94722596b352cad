/*
 * The SecondFactor interface (src/modules/second-factor/second-factor.ts), one conformance suite per
 * factor, as STYLE S9 runs one suite per store: enrol, list, check a proof once and only once,
 * remove. A new factor (passkeys) joins the `factors` table below.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SecondFactor } from "../../src/modules/second-factor/second-factor.js";
import { register, totpCode, uniqueName } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

const meta = { ip: "192.0.2.9", userAgent: "factor-suite" };

interface FactorCase {
  name: string;
  method: "otp" | "recovery";
  factor(t: TestApp): SecondFactor<{ code: string }, unknown>;
  /** Enrols the user and returns a proof the factor accepts once. */
  enrolWithProof(t: TestApp, userId: string): Promise<{ code: string }>;
}

const factors: FactorCase[] = [
  {
    name: "TOTP",
    method: "otp",
    factor: (t) => t.app.services.totp,
    async enrolWithProof(t, userId) {
      const totp = t.app.services.totp;
      const setup = await totp.enroll(userId, t.db);
      // A pending secret is no usable credential yet.
      expect(await totp.list(userId, t.db)).toEqual([]);
      const pending = await totp.confirmPending(userId, totpCode(setup.secret, t.clock));
      await t.db.transaction().execute((trx) => pending.activate(trx));
      t.clock.advance(30); // the confirming step is used up
      return { code: totpCode(setup.secret, t.clock) };
    },
  },
  {
    name: "recovery codes",
    method: "recovery",
    factor: (t) => t.app.services.recoveryCodes,
    async enrolWithProof(t, userId) {
      const codes = await t.app.services.recoveryCodes.enroll(userId, t.db);
      expect(codes).toHaveLength(10);
      return { code: codes[0] ?? "" };
    },
  },
];

for (const dialect of testDialects()) {
  describe(`the SecondFactor interface [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    for (const { name, method, factor, enrolWithProof } of factors) {
      it(`${name}: lists nothing before enrolment, then the credential, and says its amr method`, async () => {
        const { userId } = await register(t.app, uniqueName("list"));
        expect(factor(t).method).toBe(method);
        expect(await factor(t).list(userId, t.db)).toEqual([]);
        await enrolWithProof(t, userId);
        const listed = await factor(t).list(userId, t.db);
        expect(listed.length).toBeGreaterThan(0);
        for (const credential of listed) {
          expect(credential).toEqual({ id: expect.any(String), createdAt: expect.any(Number) });
          expect(credential.createdAt).toBeLessThanOrEqual(t.clock.now());
        }
      });

      it(`${name}: accepts a proof once, then refuses it, and refuses a wrong one`, async () => {
        const { userId } = await register(t.app, uniqueName("check"));
        const proof = await enrolWithProof(t, userId);
        await expect(factor(t).check(userId, proof, meta, t.db)).resolves.toBeUndefined();
        await expect(factor(t).check(userId, proof, meta, t.db)).rejects.toMatchObject({
          code: method === "otp" ? "otp_replayed" : "invalid_otp",
        });
        await expect(factor(t).check(userId, { code: "000000" }, meta, t.db)).rejects.toMatchObject({
          code: "invalid_otp",
        });
      });

      it(`${name}: remove leaves no credential and no proof that works`, async () => {
        const { userId } = await register(t.app, uniqueName("remove"));
        const proof = await enrolWithProof(t, userId);
        await factor(t).remove(userId, t.db);
        expect(await factor(t).list(userId, t.db)).toEqual([]);
        await expect(factor(t).check(userId, proof, meta, t.db)).rejects.toMatchObject({ code: "invalid_otp" });
      });
    }

    it("removes every factor of a user at once (removeFactors), and only that user's", async () => {
      const { userId } = await register(t.app, uniqueName("all"));
      const { userId: otherId } = await register(t.app, uniqueName("other"));
      for (const { enrolWithProof } of factors) {
        await enrolWithProof(t, userId);
        await enrolWithProof(t, otherId);
      }
      await t.app.services.secondFactor.removeFactors(userId, t.db);
      for (const { factor } of factors) {
        expect(await factor(t).list(userId, t.db)).toEqual([]);
        expect((await factor(t).list(otherId, t.db)).length).toBeGreaterThan(0);
      }
    });
  });
}
