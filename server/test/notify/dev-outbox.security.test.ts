/*
 * Attack: account takeover through the development outbox. A stranger asks for a password reset of
 * someone's verified address, then reads the reset link from `GET /dev/mail` — on a server that sends
 * real mail, through a reverse proxy on the same machine, or from another host — resets the password
 * and signs in. The outbox must exist only without SMTP_URL and outside production, and answer only
 * requests straight from loopback; to everyone else it is the same 404 as a path that does not exist.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { register } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, send } from "../support/http.js";
import { startSMTPSink, type SMTPSink } from "../support/smtp-sink.js";

const [sqlite] = testDialects();
if (sqlite === undefined) throw new Error("no dialect");

describe("with SMTP_URL set (npm start's defaults otherwise: NODE_ENV unset)", () => {
  let t: TestApp;
  let sink: SMTPSink;
  beforeAll(async () => {
    sink = await startSMTPSink();
    t = await appOn(sqlite, { env: { SMTP_URL: sink.url } });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it("a stranger cannot read a reset link from the outbox when SMTP is configured", async () => {
    const { accessToken } = await register(t.app, "victim", { email: "victim@example.org" });
    await t.app.services.mailer.idle();
    const verification = sink.to("victim@example.org")[0];
    const token = /verify-email\?token=([\w-]+)/.exec(verification?.text ?? "")?.[1];
    expect(token).toBeDefined();
    expect((await call(t.app, "POST", "/api/auth/email/verify", { body: { token } })).status).toBe(200);
    expect(
      (await call(t.app, "POST", "/api/auth/password/forgot", { body: { email: "victim@example.org" } })).status,
    ).toBe(202);
    await t.app.services.mailer.idle();
    expect(sink.to("victim@example.org").some((m) => m.text.includes("/reset-password?token="))).toBe(true);

    // Even from loopback itself: the route does not exist, and no copy of any message is kept.
    const outbox = await send(t.app, { method: "GET", url: "/dev/mail", remoteAddress: "127.0.0.1" });
    expectError(outbox, 404, "not_found");
    expect(outbox.text).not.toContain("token=");
    expect(await t.app.services.mailer.outbox()).toBeNull();
    expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
  });
});

describe("without SMTP_URL outside production", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appOn(sqlite, { env: { NODE_ENV: "development", TRUST_PROXY: "loopback" } });
    await register(t.app, "outboxed", { email: "outboxed@example.org" });
    await t.app.services.mailer.idle();
  });
  afterAll(async () => t.close());

  const notFoundBody = async (): Promise<string> =>
    (await send(t.app, { method: "GET", url: "/dev/nothing-here", remoteAddress: "127.0.0.1" })).text.replace(
      "/dev/nothing-here",
      "/dev/mail",
    );

  it("answers a request straight from loopback with the messages", async () => {
    for (const remoteAddress of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
      const res = await send(t.app, { method: "GET", url: "/dev/mail", remoteAddress });
      expect(res.status, remoteAddress).toBe(200);
      expect(res.text).toContain("outboxed@example.org");
    }
  });

  it("a client on another host cannot read the outbox", async () => {
    for (const remoteAddress of ["192.0.2.7", "10.0.0.1", "::ffff:192.0.2.7", "2001:db8::1"]) {
      const res = await send(t.app, { method: "GET", url: "/dev/mail", remoteAddress });
      expectError(res, 404, "not_found");
      // The same answer as a path that does not exist: nothing tells the outbox is there.
      expect(res.text, remoteAddress).toBe(await notFoundBody());
    }
  });

  it.each([
    ["X-Forwarded-For", "127.0.0.1"],
    ["X-Forwarded-For", "192.0.2.7"],
    ["X-Forwarded-Host", "localhost"],
    ["X-Forwarded-Proto", "http"],
    ["Forwarded", "for=127.0.0.1"],
    ["X-Real-IP", "127.0.0.1"],
    ["Via", "1.1 proxy"],
  ])("a request forwarded by a proxy on this machine (%s: %s) cannot read the outbox", async (name, value) => {
    // TRUST_PROXY=loopback believes the proxy's X-Forwarded-For; the outbox still refuses anything forwarded.
    const res = await send(t.app, {
      method: "GET",
      url: "/dev/mail",
      remoteAddress: "127.0.0.1",
      headers: { [name]: value },
    });
    expectError(res, 404, "not_found");
    expect(res.text).not.toContain("outboxed@example.org");
  });
});

describe("in production without SMTP_URL", () => {
  it("has no outbox, not even for loopback", async () => {
    const t = await appOn(sqlite, { env: { NODE_ENV: "production" } });
    try {
      await register(t.app, "prodvictim", { email: "prodvictim@example.org" });
      await t.app.services.mailer.idle();
      expectError(await send(t.app, { method: "GET", url: "/dev/mail", remoteAddress: "127.0.0.1" }), 404, "not_found");
      expect(await t.app.services.mailer.outbox()).toBeNull();
    } finally {
      await t.close();
    }
  });
});
