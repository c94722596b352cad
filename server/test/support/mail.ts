import { afterAll, beforeAll, expect } from "vitest";
import { enrolledUser, register, strongPassword } from "./accounts.js";
import { appOn, type TestApp } from "./app.js";
import type { TestDialect } from "./dialects.js";
import { call } from "./http.js";
import { startSMTPSink, type ReceivedMail, type SMTPSink } from "./smtp-sink.js";

export type LinkPath = "/verify-email" | "/magic-link" | "/reset-password" | "/delete-account";

/** An app whose mail goes over real SMTP to `sink` (SMTP_URL), on a fresh database of `dialect`. */
export async function mailApp(
  dialect: TestDialect,
  sink: SMTPSink,
  env: Record<string, string> = {},
): Promise<TestApp> {
  return appOn(dialect, { env: { SMTP_URL: sink.url, MAIL_FROM: "Tessera <tessera@tessera.test>", ...env } });
}

/** One suite's SMTP sink and mail-sending app: started before its tests, closed after them. */
export function useMailApp(
  dialect: TestDialect,
  bind: (t: TestApp, sink: SMTPSink) => void,
  env: Record<string, string> = {},
): void {
  let sink: SMTPSink | undefined;
  let t: TestApp | undefined;
  beforeAll(async () => {
    sink = await startSMTPSink();
    t = await mailApp(dialect, sink, env);
    bind(t, sink);
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });
}

/** Waits until the mail queue and its background lookups are done. */
export async function mailSettled(t: TestApp): Promise<void> {
  await t.app.services.mailer.idle();
}

/** The newest message to `address` once the queue is idle; fails when none arrived. */
export async function lastMailTo(t: TestApp, sink: SMTPSink, address: string): Promise<ReceivedMail> {
  await mailSettled(t);
  const messages = sink.to(address);
  expect(messages.length, `no mail to ${address}`).toBeGreaterThan(0);
  const last = messages.at(-1);
  if (last === undefined) throw new Error("unreachable");
  return last;
}

/**
 * The token of the link in a received mail, checked the way a person would see it: the text and the
 * HTML both carry `${PUBLIC_URL}${path}?token=…`.
 */
export function linkToken(mail: ReceivedMail, path: LinkPath): string {
  const pattern = new RegExp(`http://tessera\\.test${path}\\?token=([A-Za-z0-9_-]+)`);
  const inText = pattern.exec(mail.text)?.[1];
  expect(inText, `no ${path} link in: ${mail.text}`).toBeDefined();
  expect(pattern.exec(mail.html)?.[1]).toBe(inText);
  return inText ?? "";
}

/** Every link in a mail (any path), to assert that notices carry none. */
export function linksIn(mail: ReceivedMail): string[] {
  return mail.text.match(/https?:\/\/\S+/g) ?? [];
}

/** Follows the newest verification link sent to `email`. */
export async function verifyAddress(t: TestApp, sink: SMTPSink, email: string): Promise<void> {
  const mail = await lastMailTo(t, sink, email);
  const res = await call(t.app, "POST", "/api/auth/email/verify", {
    body: { token: linkToken(mail, "/verify-email") },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** Registers with `email` and verifies it. */
export async function verifiedUser(
  t: TestApp,
  sink: SMTPSink,
  username: string,
  email: string,
): Promise<{ userId: string; accessToken: string; refreshToken: string }> {
  const user = await register(t.app, username, { email });
  await verifyAddress(t, sink, email);
  return user;
}

/** A two-factor account with a verified address (enrolled first, then the address added and verified). */
export async function verifiedEnrolledUser(
  t: TestApp,
  sink: SMTPSink,
  username: string,
  email: string,
): Promise<Awaited<ReturnType<typeof enrolledUser>>> {
  const user = await enrolledUser(t.app, t.clock, username);
  const res = await call(t.app, "POST", "/api/user/email", {
    token: user.accessToken,
    body: { email, password: strongPassword },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await verifyAddress(t, sink, email);
  return user;
}
