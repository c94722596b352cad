import { expect } from "vitest";
import { appOn, type TestApp } from "../helpers/build-test-app.js";
import type { TestDialect } from "../helpers/dialects.js";
import type { ReceivedMail, SMTPSink } from "./smtp-sink.js";

export type LinkPath = "/verify-email" | "/magic-link" | "/reset-password" | "/delete-account";

/** An app whose mail goes over real SMTP to `sink` (SMTP_URL), on a fresh database of `dialect`. */
export async function mailApp(dialect: TestDialect, sink: SMTPSink, env: Record<string, string> = {}): Promise<TestApp> {
  return appOn(dialect, { env: { SMTP_URL: sink.url, MAIL_FROM: "Tessera <tessera@tessera.test>", ...env } });
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
