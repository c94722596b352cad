import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import type { OutgoingMail } from "../../src/modules/notify/mailer.js";
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
