import type { FastifyBaseLogger } from "fastify";
import { createRequire } from "node:module";
import type NodemailerModule from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";
import type { Kysely } from "kysely";
import { systemClock } from "../../clock.js";
import type { Config } from "../../config.js";
import type { Keyring } from "../../crypto/encryption.js";
import { dialectOf } from "../../db/connect.js";
import type { Database } from "../../db/database.js";
import type { Mailer, MailTransport } from "./mailer.js";
import { createMailer } from "./outbox-mailer.js";

/**
 * SMTP_URL → nodemailer options. `smtp://` upgrades with STARTTLS when the server offers it, `smtps://`
 * is TLS from the first byte. `?starttls=required` refuses a server without STARTTLS; `?starttls=off`
 * never upgrades (a relay on localhost, a test server). User and password are percent-decoded.
 */
export function smtpOptionsFromUrl(smtpUrl: string): SMTPTransport.Options {
  const url = new URL(smtpUrl);
  const starttls = url.searchParams.get("starttls");
  if (starttls !== null && starttls !== "off" && starttls !== "required") {
    throw new RangeError("SMTP_URL: starttls must be off or required");
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"), // IPv6 literals come bracketed
    ...(url.port === "" ? {} : { port: Number(url.port) }),
    secure: url.protocol === "smtps:",
    ...(url.username === ""
      ? {}
      : { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
    ignoreTLS: starttls === "off",
    requireTLS: starttls === "required",
    // A hung server must not hold a delivery slot for nodemailer's default of minutes.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
}

export function createSMTPTransport(smtpUrl: string, from: string): MailTransport {
  // nodemailer loads only when SMTP_URL is set.
  const nodemailer = createRequire(import.meta.url)("nodemailer") as typeof NodemailerModule;
  const transporter = nodemailer.createTransport(smtpOptionsFromUrl(smtpUrl));
  return {
    async deliver(mail) {
      await transporter.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
    },
    close: () => transporter.close(),
  };
}

/**
 * Without SMTP_URL nothing leaves the process. Outside production the log names the recipient and
 * subject and GET /dev/mail shows the full text; in production the log says only that mail was dropped,
 * never a link.
 */
export function createLogTransport(log: FastifyBaseLogger, production: boolean): MailTransport {
  return {
    async deliver(mail) {
      if (production) log.warn({ subject: mail.subject }, "mail not sent: SMTP_URL is not set");
      else log.info({ to: mail.to, subject: mail.subject }, "mail not sent (no SMTP_URL); read it at GET /dev/mail");
    },
    close: () => undefined,
  };
}

/**
 * The mailer main.ts and the tests get by default: SMTP when configured, else the log (and, outside
 * production, the outbox /dev/mail reads; never beside SMTP, so no link sent by mail can be read there).
 */
export function createMailerFromConfig(
  config: Readonly<Config>,
  deps: { db: Kysely<Database>; keyring: Keyring; log: FastifyBaseLogger },
): Mailer {
  const { log } = deps;
  const production = config.nodeEnv === "production";
  const transport =
    config.smtpUrl === null
      ? createLogTransport(log, production)
      : createSMTPTransport(config.smtpUrl, config.mailFrom);
  if (config.smtpUrl === null && production)
    log.warn("SMTP_URL is not set: verification, sign-in and reset emails will not be sent");
  return createMailer({
    db: deps.db,
    dialect: dialectOf(config.databaseUrl),
    keyring: deps.keyring,
    transport,
    // The outbox schedules its retries in real time.
    clock: systemClock,
    log: log.child({ module: "mailer" }),
    keepOutbox: config.devOutbox,
  });
}
