import type { NoticeKind } from "./notifier.js";

/** Every mail Tessera sends is written here, once: plain text plus a simple HTML twin. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

export type LinkPurpose = "verify_email" | "magic_link" | "password_reset" | "delete_account";

export function escapeHTML(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const notYouWithLink =
  "If you did not ask for this, ignore this email: nothing changes unless the link is opened. " +
  "If it keeps happening, change your password.";
const notYouNotice =
  "If this was not you, sign in to Tessera now, change your password, and revoke the sessions you do not " +
  "recognise. If you cannot sign in, reset your password or contact your administrator.";

const linkCopy: Record<LinkPurpose, { subject: string; action: string; button: string }> = {
  verify_email: {
    subject: "Confirm your email address",
    action: "confirm that this email address belongs to your Tessera account",
    button: "Confirm my email address",
  },
  magic_link: { subject: "Your sign-in link", action: "sign in to your Tessera account", button: "Sign in" },
  password_reset: {
    subject: "Reset your password",
    action:
      "choose a new password for your Tessera account. " +
      "Two-factor authentication stays on, and every session is signed out",
    button: "Choose a new password",
  },
  delete_account: {
    subject: "Confirm deleting your account",
    action: "permanently delete your Tessera account and everything in it. This cannot be undone",
    button: "Delete my account",
  },
};

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "1 hour" : `${seconds / 3600} hours`;
  return `${Math.round(seconds / 60)} minutes`;
}

function page(paragraphs: string[]): string {
  const body = paragraphs.map((p) => `<p>${p}</p>`).join("\n");
  return `<!doctype html>\n<html><body style="font-family:sans-serif;line-height:1.5">\n${body}\n</body></html>\n`;
}

/** A mail carrying a single-use link: what it does, how long it lives, and what to do if it was not you. */
export function linkMail(
  purpose: LinkPurpose,
  input: { username: string; url: string; lifetimeInSeconds: number },
): MailContent {
  const copy = linkCopy[purpose];
  const expiry = `The link works once and expires in ${duration(input.lifetimeInSeconds)}.`;
  const text = [
    `Hello ${input.username},`,
    `Open this link to ${copy.action}:`,
    input.url,
    expiry,
    notYouWithLink,
    "— Tessera",
  ].join("\n\n");
  const html = page([
    `Hello ${escapeHTML(input.username)},`,
    `Open this link to ${escapeHTML(copy.action)}:`,
    `<a href="${escapeHTML(input.url)}">${escapeHTML(copy.button)}</a><br><small>${escapeHTML(input.url)}</small>`,
    escapeHTML(expiry),
    escapeHTML(notYouWithLink),
    "— Tessera",
  ]);
  return { subject: `Tessera: ${copy.subject}`, text: `${text}\n`, html };
}

const noticeCopy: Record<NoticeKind, { subject: string; happened: string; notYou?: string }> = {
  second_factor_enabled: {
    subject: "Two-factor authentication turned on",
    happened: "Two-factor authentication was turned on for your account.",
  },
  second_factor_disabled: {
    subject: "Two-factor authentication turned off",
    happened: "Two-factor authentication was turned off for your account; signing in now needs only your password.",
  },
  passkey_added: {
    subject: "A passkey was added",
    happened: "A passkey was added to your account; it can now sign you in.",
  },
  passkey_removed: {
    subject: "A passkey was removed",
    happened: "A passkey was removed from your account; it can no longer sign you in.",
  },
  passkey_clone_suspected: {
    subject: "A passkey of yours may have been copied",
    happened:
      "A sign-in with one of your passkeys was refused because its signature counter went backwards, which " +
      "happens when an authenticator has been copied.",
    notYou: "Remove that passkey from your account, check your other passkeys, and change your password.",
  },
  recovery_codes_regenerated: {
    subject: "New recovery codes",
    happened: "A new set of recovery codes was created for your account; the old codes no longer work.",
  },
  recovery_code_used: {
    subject: "A recovery code was used",
    happened: "One of your recovery codes was used to sign in; it cannot be used again.",
  },
  password_changed: {
    subject: "Your password was changed",
    happened: "The password of your account was changed, and your other sessions were signed out.",
  },
  password_reset: {
    subject: "Your password was reset",
    happened:
      "The password of your account was reset from an emailed link. Every session and remembered device " +
      "was signed out; two-factor authentication is unchanged.",
  },
  new_device_login: {
    subject: "New sign-in to your account",
    happened: "Your account was signed in to from a device or browser it has not used before.",
  },
  email_in_use: {
    subject: "Someone tried to use your email address",
    happened:
      "Someone tried to add this email address to another Tessera account. It was not added; it stays on your account.",
    notYou: "You need not do anything. If it keeps happening, tell your administrator.",
  },
  email_changed: {
    subject: "Your email address was changed",
    happened: "The email address of your account was changed to another one; mail will no longer come to this address.",
  },
  account_deleted: {
    subject: "Your account was deleted",
    happened: "Your Tessera account and everything in it was deleted.",
    notYou: "If you did not do this, contact your administrator at once.",
  },
};

/** A notice has no link: it only tells the owner what changed, when, from where, and what to do if it was not them. */
export function noticeMail(
  kind: NoticeKind,
  input: { username: string; at: Date; ip: string | null; userAgent: string | null },
): MailContent {
  const copy = noticeCopy[kind];
  const notYou = copy.notYou ?? notYouNotice;
  const details = [
    `Time: ${input.at
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, " UTC")}`,
    `IP address: ${input.ip ?? "unknown"}`,
    `Browser or app: ${input.userAgent ?? "unknown"}`,
  ];
  const text = [`Hello ${input.username},`, copy.happened, details.join("\n"), notYou, "— Tessera"].join("\n\n");
  const html = page([
    `Hello ${escapeHTML(input.username)},`,
    escapeHTML(copy.happened),
    details.map(escapeHTML).join("<br>"),
    escapeHTML(notYou),
    "— Tessera",
  ]);
  return { subject: `Tessera: ${copy.subject}`, text: `${text}\n`, html };
}
