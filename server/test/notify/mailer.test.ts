import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { createMailer, type MailTransport, type OutgoingMail } from "../../src/modules/notify/mailer.js";
import { linkMail, noticeMail } from "../../src/modules/notify/templates.js";
import { createLogTransport, createSMTPTransport, smtpOptionsFromUrl } from "../../src/modules/notify/transports.js";
import { startSMTPSink } from "../support/smtp-sink.js";

/** A logger whose every line lands in `lines`, to check what reaches the log. */
function capturingLog(): { log: FastifyBaseLogger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: "trace" }, { write: (line: string) => lines.push(line) });
  return { log, lines };
}

const mail = (n: number): OutgoingMail => ({
  to: `user${n}@example.org`,
  subject: `Message ${n}`,
  text: `secret text ${n} token=abc${n}`,
  html: `<p>${n}</p>`,
});

/** A transport that fails its first `failures` deliveries, recording when each try happened. */
function flakyTransport(failures: number): MailTransport & { tries: number[]; delivered: OutgoingMail[] } {
  const tries: number[] = [];
  const delivered: OutgoingMail[] = [];
  return {
    tries,
    delivered,
    async deliver(message) {
      tries.push(Date.now());
      if (tries.length <= failures)
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNECTION" });
      delivered.push(message);
    },
    close: () => undefined,
  };
}

describe("the mail queue", () => {
  it("returns from send at once and retries a failing transport with growing delays until it delivers", async () => {
    const transport = flakyTransport(3);
    const { log, lines } = capturingLog();
    const mailer = createMailer({ transport, clock: fixedClock(0), log, firstRetryDelayInMs: 20 });
    mailer.send(mail(1));
    expect(transport.delivered).toEqual([]);
    await mailer.idle();
    expect(transport.delivered).toEqual([mail(1)]);
    expect(transport.tries).toHaveLength(4);
    const gaps = transport.tries.slice(1).map((at, i) => at - (transport.tries[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(18); // 20, 40, 80 ms
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    const retries = lines.filter((line) => line.includes("will retry"));
    expect(retries).toHaveLength(3);
    expect(retries.join("")).toContain("ECONNECTION");
    // The log never carries the message itself (links live there).
    expect(lines.join("")).not.toContain("secret text");
    expect(lines.join("")).not.toContain("token=");
  });

  it("gives up after five tries, logs it, and stays usable", async () => {
    const transport = flakyTransport(5);
    const { log, lines } = capturingLog();
    const mailer = createMailer({ transport, clock: fixedClock(0), log, firstRetryDelayInMs: 1 });
    mailer.send(mail(1));
    await mailer.idle();
    expect(transport.tries).toHaveLength(5);
    expect(transport.delivered).toEqual([]);
    expect(lines.some((line) => line.includes("giving up"))).toBe(true);
    mailer.send(mail(2));
    await mailer.idle();
    expect(transport.delivered).toEqual([mail(2)]);
  });

  it("runs deferred work off the caller's path, logs its failure, and idle() waits for it", async () => {
    const transport = flakyTransport(0);
    const { log, lines } = capturingLog();
    const mailer = createMailer({ transport, clock: fixedClock(0), log });
    mailer.defer(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      mailer.send(mail(1));
    });
    mailer.defer(async () => {
      throw new Error("database went away");
    });
    expect(transport.delivered).toEqual([]);
    await mailer.idle();
    expect(transport.delivered).toEqual([mail(1)]);
    expect(lines.some((line) => line.includes("database went away"))).toBe(true);
  });

  it("keeps the last 50 delivered messages, newest first, only when asked to", async () => {
    const kept = createMailer({
      transport: flakyTransport(0),
      clock: fixedClock(1_700_000_000),
      log: capturingLog().log,
      keepOutbox: true,
    });
    for (let n = 1; n <= 55; n += 1) kept.send(mail(n));
    await kept.idle();
    const outbox = kept.outbox() ?? [];
    expect(outbox).toHaveLength(50);
    expect(outbox[0]).toMatchObject({ ...mail(55), sent_at: "2023-11-14T22:13:20.000Z" });
    expect(outbox.at(-1)?.subject).toBe("Message 6");
    const unkept = createMailer({ transport: flakyTransport(0), clock: fixedClock(0), log: capturingLog().log });
    unkept.send(mail(1));
    await unkept.idle();
    expect(unkept.outbox()).toBeNull();
  });

  it("drops what no longer fits in the queue instead of growing without bound", async () => {
    const transport = flakyTransport(1000);
    const { log, lines } = capturingLog();
    const mailer = createMailer({ transport, clock: fixedClock(0), log, maxQueued: 3, concurrency: 1, maxAttempts: 1 });
    for (let n = 1; n <= 10; n += 1) mailer.send(mail(n));
    await mailer.idle();
    expect(transport.tries.length).toBeLessThanOrEqual(4);
    expect(lines.filter((line) => line.includes("queue is closed or full")).length).toBeGreaterThan(0);
  });

  it("flushes on close, then refuses new mail", async () => {
    const transport = flakyTransport(1);
    const mailer = createMailer({ transport, clock: fixedClock(0), log: capturingLog().log, firstRetryDelayInMs: 10 });
    mailer.send(mail(1));
    await mailer.close();
    expect(transport.delivered).toEqual([mail(1)]);
    mailer.send(mail(2));
    await mailer.idle();
    expect(transport.delivered).toEqual([mail(1)]);
  });
});

describe("without SMTP_URL", () => {
  it("logs recipient and subject outside production; in production neither the recipient nor any text", async () => {
    const dev = capturingLog();
    await createLogTransport(dev.log, false).deliver(mail(1));
    expect(dev.lines.join("")).toContain("user1@example.org");
    expect(dev.lines.join("")).toContain("/dev/mail");
    const prod = capturingLog();
    await createLogTransport(prod.log, true).deliver(mail(1));
    expect(prod.lines.join("")).toContain("SMTP_URL is not set");
    expect(prod.lines.join("")).not.toContain("user1@example.org");
    expect(prod.lines.join("")).not.toContain("token=");
  });
});

describe("SMTP_URL", () => {
  it("maps smtp and smtps URLs, percent-encoded credentials and ?starttls to transport options", () => {
    expect(smtpOptionsFromUrl("smtp://mail.example.org:587")).toMatchObject({
      host: "mail.example.org",
      port: 587,
      secure: false,
      ignoreTLS: false,
      requireTLS: false,
    });
    expect(smtpOptionsFromUrl("smtps://user%40example.org:p%3Ass%2Fword@mail.example.org")).toMatchObject({
      secure: true,
      auth: { user: "user@example.org", pass: "p:ss/word" },
    });
    expect(smtpOptionsFromUrl("smtp://127.0.0.1:2525?starttls=off")).toMatchObject({ ignoreTLS: true });
    expect(smtpOptionsFromUrl("smtp://relay?starttls=required")).toMatchObject({ requireTLS: true });
    expect(smtpOptionsFromUrl("smtp://[::1]:25")).toMatchObject({ host: "::1", port: 25 });
    expect(() => smtpOptionsFromUrl("smtp://relay?starttls=maybe")).toThrow(RangeError);
  });

  it("is checked at start: a bad value stops the server with one line naming the variable", () => {
    for (const value of ["http://mail.example.org", "smtp://relay?starttls=maybe"]) {
      try {
        loadConfig({ SMTP_URL: value, DATA_DIR: "/tmp" });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect(error instanceof ConfigError ? error.problems : []).toEqual([expect.stringMatching(/^SMTP_URL: /)]);
      }
    }
  });

  it("logs in with the user and password from the URL", async () => {
    const logins: { username: string; password: string }[] = [];
    const sink = await startSMTPSink({
      server: {
        authOptional: false,
        allowInsecureAuth: true,
        onAuth(auth, _session, callback) {
          logins.push({ username: auth.username ?? "", password: auth.password ?? "" });
          callback(null, { user: auth.username });
        },
      },
    });
    const transport = createSMTPTransport(
      `smtp://mailer%40tessera.test:s3cr%3At@127.0.0.1:${sink.port}?starttls=off`,
      "Tessera <tessera@tessera.test>",
    );
    await transport.deliver(mail(1));
    transport.close();
    await sink.close();
    expect(logins).toEqual([{ username: "mailer@tessera.test", password: "s3cr:t" }]);
    expect(sink.messages[0]).toMatchObject({
      from: "tessera@tessera.test",
      to: ["user1@example.org"],
      subject: "Message 1",
      text: "secret text 1 token=abc1",
    });
  });
});

describe("templates", () => {
  it("escape every interpolated value in HTML and name the action, the expiry and what to do if it was not you", () => {
    const link = linkMail("password_reset", {
      username: "<img src=x onerror=alert(1)>",
      url: 'http://tessera.test/reset-password?token=a"b<c',
      lifetimeInSeconds: 1800,
    });
    expect(link.html).not.toContain("<img");
    expect(link.html).toContain("&#60;img src=x onerror=alert(1)&#62;");
    expect(link.html).toContain('href="http://tessera.test/reset-password?token=a&#34;b&#60;c"');
    expect(link.text).toContain("choose a new password");
    expect(link.text).toContain("expires in 30 minutes");
    expect(link.text).toContain("If you did not ask for this");
    const notice = noticeMail("second_factor_disabled", {
      username: "a&b",
      at: new Date(0),
      ip: "192.0.2.1",
      userAgent: '"quoted" <ua>',
    });
    expect(notice.html).toContain("a&#38;b");
    expect(notice.html).toContain("&#34;quoted&#34; &#60;ua&#62;");
    expect(notice.text).toContain("Time: 1970-01-01 00:00:00 UTC");
    expect(notice.text).toContain("If this was not you");
    expect(notice.text).not.toMatch(/https?:\/\//);
  });
});
