/**
 * The one place where API error codes become words a person reads (STYLE S7). Views never
 * show the server's `message` directly: they show `ApiError.message`, written here.
 */

export interface FieldDetail {
  field: string;
  message: string;
}

const messages: Record<string, string> = {
  validation_failed: "Some fields need attention.",
  invalid_token: "This link is invalid, already used or expired. Ask for a new one.",
  invalid_credentials: "The username or password is incorrect.",
  mfa_required: "This needs two-factor authentication. Sign in again with your authenticator code.",
  reauth_required: "For your security, confirm it is you: enter your password again to continue.",
  invalid_otp: "That code is not right. Check your authenticator app and try again.",
  otp_replayed: "That code was already used. Wait for the next code and try again.",
  // The server says this both when the 5 minutes are up and after the 5th wrong code (SPEC §2): name both.
  login_token_expired: "This sign-in has ended: it took too long, or had too many wrong codes. Please sign in again.",
  unauthorized: "Your session has ended. Please sign in again.",
  forbidden: "You are not allowed to do this.",
  enrollment_required: "Your organisation requires two-factor authentication: set it up to continue.",
  last_admin: "This is the last administrator. Make someone else an administrator first.",
  not_found: "Not found.",
  user_exists: "That username is already taken.",
  mfa_already_enabled: "Two-factor authentication is already on.",
  mfa_not_enabled: "Two-factor authentication is not on.",
  mfa_setup_expired: "The setup took too long and expired. Start again.",
  payload_too_large: "That request is too large.",
  unsupported_media_type: "The request could not be sent in the right format.",
  service_unavailable: "The service is not ready. Try again in a moment.",
  network_error: "Cannot reach the server. Check your connection and try again.",
  invalid_passkey: "That passkey was not accepted. Try again, or use another way to sign in.",
  // Said by the browser, not the server (lib/webauthn.ts): the ceremony did not produce a passkey.
  passkey_cancelled: "The passkey request was cancelled or timed out. Try again when you are ready.",
  passkey_exists: "This authenticator already holds a passkey for your account.",
  passkey_unsupported: "This browser or device cannot use passkeys here.",
  passkey_failed: "The browser could not use the passkey. Try again, or use another way.",
  internal_error: "Something went wrong on our side. Please try again.",
};

/** What a code field held when the code was refused: the advice differs. */
export type CodeKind = "totp" | "recovery_code";

/** A refusal that belongs to one field of a form, in that field's words. */
export interface FieldRefusal {
  field: "password" | "code";
  message: string;
}

/**
 * Forms that re-ask the signed-in person's password and code (turn off two-factor, new recovery codes, change
 * password or email, delete the account) have no username to get wrong, so a refusal there belongs on the field it
 * is about. Only the sign-in form says "username or password" (`invalid_credentials` above).
 */
export function fieldRefusal(code: string, codeKind: CodeKind = "totp"): FieldRefusal | null {
  switch (code) {
    case "invalid_credentials":
      return { field: "password", message: "The password is not correct." };
    case "invalid_otp":
      return {
        field: "code",
        message:
          codeKind === "totp"
            ? messageFor(code)
            : "That recovery code is not right, or it was already used. Check it and try again.",
      };
    case "otp_replayed":
      return { field: "code", message: messageFor(code) };
    case "mfa_required":
      // On these forms the server asks for the code that was left out.
      return { field: "code", message: "Enter a code from your authenticator app, or a recovery code." };
    default:
      return null;
  }
}

/** Human message for an error code; `retryAfterSeconds` sharpens the rate-limit message. */
export function messageFor(code: string, retryAfterSeconds?: number): string {
  if (code === "rate_limited") {
    if (retryAfterSeconds === undefined) return "Too many attempts. Please wait and try again.";
    return `Too many attempts. Try again in ${formatWait(retryAfterSeconds)}.`;
  }
  return messages[code] ?? messages.internal_error ?? "Something went wrong.";
}

function formatWait(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/** A failed API call: a stable `code`, a human `message`, and per-field reasons when the server gave them. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    /** What the server said; for logs, never shown as-is. */
    readonly serverMessage: string,
    readonly details: FieldDetail[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(messageFor(code, retryAfterSeconds));
  }

  /**
   * Field reasons keyed by field name. A field shows one reason, the server's first (it lists the one to fix first:
   * "at least 8 characters" before "a common password"); sentences run together read as one muddled message.
   */
  fieldErrors(): Record<string, string> {
    const result: Record<string, string> = {};
    for (const detail of this.details) {
      const key = detail.field.replace(/^\/?(body\/)?/, "");
      result[key] ??= asSentence(detail.message);
    }
    return result;
  }
}

// JSON-schema wording from the server's validator, said the way a person would.
const schemaWording: [RegExp, string][] = [
  [/^must NOT have fewer than 1 characters?$/i, "This field is required"],
  [/^must have required property/i, "This field is required"],
  [/^must match format "email"$/i, "Enter a valid email address"],
  [/^must NOT have more than (\d+) characters?$/i, "Use at most $1 characters"],
];

function asSentence(text: string): string {
  let trimmed = text.trim();
  for (const [pattern, wording] of schemaWording) trimmed = trimmed.replace(pattern, wording);
  if (trimmed === "") return trimmed;
  const capitalized = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalized) ? capitalized : `${capitalized}.`;
}

interface ErrorBodyShape {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

/** Builds an ApiError from a response status, its parsed JSON (or null) and Retry-After. */
export function toApiError(status: number, body: unknown, retryAfter: string | null): ApiError {
  // The body is untrusted JSON: the cast only names the optional shape, every field is checked below.
  const error = typeof body === "object" && body !== null ? (body as ErrorBodyShape).error : undefined;
  const code = typeof error?.code === "string" ? error.code : fallbackCode(status);
  const serverMessage = typeof error?.message === "string" ? error.message : "";
  const details = Array.isArray(error?.details) ? error.details.filter(isFieldDetail) : [];
  const seconds = retryAfter === null ? Number.NaN : Number.parseInt(retryAfter, 10);
  return new ApiError(status, code, serverMessage, details, Number.isFinite(seconds) ? seconds : undefined);
}

function isFieldDetail(value: unknown): value is FieldDetail {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>; // an object; its fields are checked next
  return typeof record.field === "string" && typeof record.message === "string";
}

function fallbackCode(status: number): string {
  const byStatus: Record<number, string> = {
    400: "validation_failed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    422: "validation_failed",
    429: "rate_limited",
    503: "service_unavailable",
  };
  return byStatus[status] ?? "internal_error";
}
