/*
 * Attacks on addresses as identities (SPEC "Email"): an address is an account's only once verified.
 * Before that it is a claim several accounts may hold, so a squatter can neither block the real owner
 * nor sign in, get a link or a reset by an address it only claimed, and no reply tells a stranger whether
 * an address belongs to someone.
 */
import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { login, register, strongPassword } from "../support/accounts.js";
import { call, errorCode, type Json } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import { lastMailTo, linkToken, linksIn, mailSettled, useMailApp, verifiedUser } from "../support/mail.js";
import type { SMTPSink } from "../support/smtp-sink.js";

for (const dialect of testDialects()) {
  describe(`address claims [${dialect.name}]`, () => {
    let sink: SMTPSink;
    let t: TestApp;
    useMailApp(dialect, (app, smtp) => {
      t = app;
      sink = smtp;
    });

    const me = async (accessToken: string): Promise<Json> =>
      (await call(t.app, "GET", "/api/user/me", { token: accessToken })).body;
    const verify = (token: string): Promise<{ status: number; body: Json }> =>
      call(t.app, "POST", "/api/auth/email/verify", { body: { token } });

    it("a squatter who registers the owner's address first never stops the owner from verifying it", async () => {
      const squatter = await register(t.app, "squatter1", { email: "ann@example.org" });
      const squatterLink = linkToken(await lastMailTo(t, sink, "ann@example.org"), "/verify-email");
      const owner = await register(t.app, "ann", { email: "ann@example.org" });
      const ownerLink = linkToken(await lastMailTo(t, sink, "ann@example.org"), "/verify-email");
      expect((await verify(ownerLink)).status).toBe(200);
      expect(await me(owner.accessToken)).toMatchObject({ email: "ann@example.org", email_verified: true });
      // The squatter's claim is dropped and its link dies with it.
      expect(await me(squatter.accessToken)).toMatchObject({ email: null, email_verified: false });
      const late = await verify(squatterLink);
      expect([late.status, errorCode(late.body)]).toEqual([400, "invalid_token"]);
      expect((await login(t.app, "ann@example.org")).status).toBe(200);
    });

    it("a squatter cannot sign in, get a sign-in link or a reset by an address it only claims", async () => {
      await register(t.app, "squatter2", { email: "bob@example.org" });
      await mailSettled(t);
      const before = sink.to("bob@example.org").length;
      const byAddress = await login(t.app, "bob@example.org");
      expect([byAddress.status, errorCode(byAddress.body)]).toEqual([401, "invalid_credentials"]);
      expect((await call(t.app, "POST", "/api/auth/magic-link", { body: { email: "bob@example.org" } })).status).toBe(
        202,
      );
      expect(
        (await call(t.app, "POST", "/api/auth/password/forgot", { body: { email: "bob@example.org" } })).status,
      ).toBe(202);
      await mailSettled(t);
      expect(sink.to("bob@example.org").slice(before)).toHaveLength(0);
    });

    it("a stranger cannot learn from register or /me whether an address belongs to someone", async () => {
      await verifiedUser(t, sink, "carol", "carol@example.org");
      await register(t.app, "claimer", { email: "claimed@example.org" });
      const view = async (username: string, email: string): Promise<unknown> => {
        const reg = await register(t.app, username, { email });
        const user = reg.body["user"] as Json;
        const mine = await me(reg.accessToken);
        const strip = (u: Json): Json => ({ ...u, id: "", username: "", created_at: "", last_login_at: "" });
        return { reply: strip(user), me: strip(mine) };
      };
      const free = await view("probe-free", "probe@example.org");
      for (const [username, email] of [
        ["probe-owned", "carol@example.org"],
        ["probe-claimed", "claimed@example.org"],
      ] as const) {
        const seen = (await view(username, email)) as { reply: Json; me: Json };
        expect(seen.reply["email"]).toBe(email);
        expect(seen.me["email"]).toBe(email);
        expect({ ...seen, reply: { ...seen.reply, email: "" }, me: { ...seen.me, email: "" } }).toEqual({
          reply: { ...(free as { reply: Json }).reply, email: "" },
          me: { ...(free as { me: Json }).me, email: "" },
        });
      }
      // The owner of the verified address hears of the attempt, with no link in the notice.
      await mailSettled(t);
      const toCarol = sink.to("carol@example.org");
      const notice = toCarol[toCarol.length - 1];
      if (notice === undefined) throw new Error("no notice to the owner");
      expect(notice.subject).toContain("tried to use your email address");
      expect(linksIn(notice)).toHaveLength(0);
    });

    it("an address verified on one account can be claimed by another but never verified there", async () => {
      const first = await register(t.app, "dana", { email: "dana@example.org" });
      const firstLink = linkToken(await lastMailTo(t, sink, "dana@example.org"), "/verify-email");
      const second = await register(t.app, "dana-rival", { email: "dana@example.org" });
      const secondLink = linkToken(await lastMailTo(t, sink, "dana@example.org"), "/verify-email");
      // Both hold a link; the first to open one owns the address, the other link is dead at once.
      expect((await verify(secondLink)).status).toBe(200);
      const lost = await verify(firstLink);
      expect([lost.status, errorCode(lost.body)]).toEqual([400, "invalid_token"]);
      expect(await me(first.accessToken)).toMatchObject({ email: null, email_verified: false });
      expect(await me(second.accessToken)).toMatchObject({ email: "dana@example.org", email_verified: true });
      // Claiming it again by an email change mails no link anywhere: the owner gets a notice.
      await mailSettled(t);
      const before = sink.to("dana@example.org").length;
      const change = await call(t.app, "POST", "/api/user/email", {
        token: first.accessToken,
        body: { email: "dana@example.org", password: strongPassword },
      });
      expect(change.status).toBe(202);
      await mailSettled(t);
      const mails = sink.to("dana@example.org").slice(before);
      expect(mails.map((m) => linksIn(m).length)).toEqual([0]);
    });

    it("an owner changing address keeps signing in by the verified one until the new one is verified", async () => {
      const eve = await verifiedUser(t, sink, "eve", "eve@example.org");
      await call(t.app, "POST", "/api/user/email", {
        token: eve.accessToken,
        body: { email: "eve.new@example.org", password: strongPassword },
      });
      expect(await me(eve.accessToken)).toMatchObject({ email: "eve@example.org", email_verified: true });
      expect((await login(t.app, "eve.new@example.org")).status).toBe(401);
      expect((await login(t.app, "eve@example.org")).status).toBe(200);
      expect((await verify(linkToken(await lastMailTo(t, sink, "eve.new@example.org"), "/verify-email"))).status).toBe(
        200,
      );
      expect((await login(t.app, "eve.new@example.org")).status).toBe(200);
      expect((await login(t.app, "eve@example.org")).status).toBe(401);
    });
  });
}
