import type { CodeKind } from "../api/errors";

/**
 * The form's own checks before anything is sent, with their wording in one place. They flag every empty or
 * malformed field at once (the server's schema stops at the first) and say each problem once. The server
 * checks again; its reasons arrive as field errors (api/errors.ts).
 */

/** SPEC §2: passwords are 8–256 characters, counted as the server counts them (code points after NFKC). */
export const passwordMinLength = 8;
export const passwordMaxLength = 256;
/** SPEC §2: TOTP codes have 6 digits. */
export const totpDigits = 6;

export const missing = {
  username: "Enter a username.",
  login: "Enter your username or email.",
  password: "Enter your password.",
  newPassword: "Enter a new password.",
  /** The first password of a new account. */
  firstPassword: "Enter a password.",
  email: "Enter an email address.",
} as const;

/** `message` when `value` is empty or blank, else null. */
export function requireValue(value: string, message: string): string | null {
  return value.trim() === "" ? message : null;
}

/** Why a new password cannot be used, before asking the server (which also refuses common ones); null when fine. */
export function newPasswordProblem(password: string, whenEmpty: string = missing.newPassword): string | null {
  if (password === "") return whenEmpty;
  const length = [...password.normalize("NFKC")].length;
  if (length < passwordMinLength) return `Use at least ${passwordMinLength} characters.`;
  if (length > passwordMaxLength) return `Use at most ${passwordMaxLength} characters.`;
  return null;
}

/** A required (or, with `optional`, possibly empty) email address; only the shape is checked here. */
export function emailProblem(value: string, optional = false): string | null {
  const address = value.trim();
  if (address === "") return optional ? null : missing.email;
  return /^[^\s@]+@[^\s@]+$/.test(address) ? null : "Enter an email address like name@example.com.";
}

/** An authenticator code (6 digits) or a recovery code, as the field holds it. */
export function codeProblem(value: string, kind: CodeKind = "totp"): string | null {
  const code = value.trim();
  if (kind === "recovery_code") return code === "" ? "Enter one of your recovery codes." : null;
  if (code === "") return `Enter the ${totpDigits}-digit code from your authenticator app.`;
  return code.length === totpDigits ? null : `The code has ${totpDigits} digits.`;
}
