/*
 * Attack: mail bombing and enumeration through the "send me a link" routes (SPEC §2 Email): one
 * address gets at most 5 mails per purpose an hour, whoever asks, and the 429 answers known and
 * unknown addresses alike.
 */
import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { mailSettled, useMailApp, verifiedUser } from "../support/mail.js";
import type { SMTPSink } from "../support/smtp-sink.js";

for (const dialect of testDialects()) {
  describe(`per-address limits on link requests [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    useMailApp(
      dialect,
      (app, smtp) => {
        t = app;
        sink = smtp;
      },
      { RATE_LIMIT: "on" },
    );

    it("stops mailing one address after 5 requests an hour: 429 for known and unknown addresses alike", async () => {
      await verifiedUser(t, sink, "bombed", "bombed@example.org");
      await mailSettled(t);
      // The verification mail was one of the address's 5 unrequested mails of this hour.
      t.clock.advance(60 * 60);
      const before = sink.to("bombed@example.org").length;
      // Each address from its own client IP, so the per-IP limit (10 a minute) is not what answers.
      const ask = async (email: string, remoteAddress: string): Promise<number> =>
        (await t.app.inject({ method: "POST", url: "/api/auth/password/forgot", payload: { email }, remoteAddress }))
          .statusCode;
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        known.push(await ask("bombed@example.org", "192.0.2.10"));
        unknown.push(await ask("ghost@example.org", "192.0.2.11"));
      }
      expect(known).toEqual([202, 202, 202, 202, 202, 429]);
      expect(unknown).toEqual(known);
      await mailSettled(t);
      expect(sink.to("bombed@example.org").length - before).toBe(5);
    });
  });
}
