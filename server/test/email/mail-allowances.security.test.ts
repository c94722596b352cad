/*
 * Attacks on an address's mail (issue 14 finding 7): strangers use up the reset and sign-in-link allowance
 * of an address so its owner gets none, or make Tessera bomb an address by naming it again and again
 * (registrations, email changes, link requests). The owner's known clients keep their own allowance, and
 * one address gets at most 5 mails an hour that its owner did not ask for.
 */
import { randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { strongPassword } from "../support/accounts.js";
import { send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import { lastMailTo, linkToken, mailSettled, useMailApp, verifiedUser } from "../support/mail.js";
import type { SMTPSink } from "../support/smtp-sink.js";

for (const dialect of testDialects()) {
  describe(`mail allowances [${dialect.name}]`, () => {
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
    const net = `10.${randomInt(1, 250)}.${randomInt(1, 250)}`;
    let host = 0;
    const nextIp = (): string => `${net}.${(host = (host % 250) + 1)}`;
    const ask = (path: string, email: string, remoteAddress: string, cookies: Record<string, string> = {}) =>
      send(t.app, { method: "POST", url: path, body: { email }, remoteAddress, cookies });

    it("twenty-five registrations naming an address send it at most 5 mails", async () => {
      for (let i = 0; i < 25; i++) {
        const res = await send(t.app, {
          method: "POST",
          url: "/api/auth/register",
          body: { username: `bomber-${i}`, password: strongPassword, email: "target@example.org" },
          remoteAddress: nextIp(),
        });
        expect(res.status).toBe(201);
      }
      await mailSettled(t);
      expect(sink.to("target@example.org")).toHaveLength(5);
    });

    it("twenty-five registrations naming an owned address send its owner at most 5 notices", async () => {
      await verifiedUser(t, sink, "owned", "owned@example.org");
      await mailSettled(t);
      const before = sink.to("owned@example.org").length;
      for (let i = 0; i < 25; i++) {
        await send(t.app, {
          method: "POST",
          url: "/api/auth/register",
          body: { username: `squat-${i}`, password: strongPassword, email: "owned@example.org" },
          remoteAddress: nextIp(),
        });
      }
      await mailSettled(t);
      expect(sink.to("owned@example.org").length - before).toBeLessThanOrEqual(5);
    });

    it("strangers asking for resets and sign-in links together send an address at most 5 mails an hour", async () => {
      await verifiedUser(t, sink, "popular", "popular@example.org");
      await mailSettled(t);
      t.clock.advance(60 * 60); // the verification mail was one of the address's unrequested mails this hour
      const before = sink.to("popular@example.org").length;
      for (let i = 0; i < 5; i++) {
        expect((await ask("/api/auth/password/forgot", "popular@example.org", nextIp())).status).toBe(202);
        expect((await ask("/api/auth/magic-link", "popular@example.org", nextIp())).status).toBe(202);
      }
      await mailSettled(t);
      expect(sink.to("popular@example.org").length - before).toBe(5);
    });

    it("strangers using up an address's reset allowance do not stop its owner's browser getting a reset", async () => {
      await verifiedUser(t, sink, "resetter", "resetter@example.org");
      const login = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username: "resetter", password: strongPassword },
        remoteAddress: nextIp(),
      });
      const cookie = login.raw.cookies.find((c) => c.name === "tessera_client")?.value ?? "";
      const strangers: number[] = [];
      for (let i = 0; i < 8; i++)
        strangers.push((await ask("/api/auth/password/forgot", "resetter@example.org", nextIp())).status);
      expect(strangers.slice(5)).toEqual([429, 429, 429]);
      // The strangers' links are written first: under the fixed clock they share the owner's link's creation
      // time, so one written after it would replace it (of two links sent at once, the later survives).
      await mailSettled(t);
      const owner = await ask("/api/auth/password/forgot", "resetter@example.org", nextIp(), {
        tessera_client: cookie,
      });
      expect(owner.status).toBe(202);
      const mail = await lastMailTo(t, sink, "resetter@example.org");
      const reset = await send(t.app, {
        method: "POST",
        url: "/api/auth/password/reset",
        body: { token: linkToken(mail, "/reset-password"), new_password: "a brand new passphrase 7" },
        remoteAddress: nextIp(),
      });
      expect(reset.status).toBe(200);
    });
  });
}
