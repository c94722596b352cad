/** Every error code the API can answer with, and its HTTP status (SPEC §2); the names are the SPEC's, frozen. */
export const errorCodes = {
  validation_failed: 422,
  invalid_token: 400,
  invalid_credentials: 401,
  mfa_required: 401,
  reauth_required: 401,
  invalid_otp: 401,
  otp_replayed: 401,
  login_token_expired: 401,
  unauthorized: 401,
  forbidden: 403,
  enrollment_required: 403,
  not_found: 404,
  user_exists: 409,
  mfa_already_enabled: 409,
  mfa_not_enabled: 409,
  mfa_setup_expired: 409,
  last_admin: 409,
  invalid_passkey: 401,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  expectation_failed: 417,
  headers_too_large: 431,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorCodes;

const defaultMessages: Record<ErrorCode, string> = {
  validation_failed: "The request is not valid.",
  invalid_token: "The link is invalid, used or expired.",
  invalid_credentials: "Invalid username or password.",
  mfa_required: "This action needs a second factor.",
  reauth_required: "Confirm it is you: this action needs a recent sign-in. Re-enter your password at /api/auth/reauth.",
  invalid_otp: "The code is not valid.",
  otp_replayed: "This code was already used. Wait for the next one.",
  login_token_expired: "The login has expired. Sign in again.",
  unauthorized: "Authentication required.",
  forbidden: "You are not allowed to do this.",
  enrollment_required:
    "Two-factor authentication is required for this account: set up an authenticator app or a passkey first.",
  not_found: "Not found.",
  user_exists: "That username is taken.",
  mfa_already_enabled: "Two-factor authentication is already on.",
  mfa_not_enabled: "Two-factor authentication is not on.",
  mfa_setup_expired: "The two-factor setup has expired. Start again.",
  last_admin: "This is the last administrator: make someone else an administrator first.",
  invalid_passkey: "The passkey was not accepted.",
  request_timeout: "The request did not arrive in time.",
  payload_too_large: "The request body is too large.",
  unsupported_media_type: "Send the request body as application/json.",
  expectation_failed: "Only Expect: 100-continue is supported.",
  headers_too_large: "The request headers are too large.",
  rate_limited: "Too many attempts. Try again later.",
  internal_error: "Something went wrong.",
  service_unavailable: "The service is not ready.",
  unavailable: "The database cannot be reached right now. Try again in a few seconds.",
};

export interface ErrorDetail {
  field: string;
  message: string;
}

/** An expected failure with a wire code; the error handler turns it into `{ error: { code, message } }`. */
export class AppError extends Error {
  // Spelled out: the bundled server's class names are minified (scripts/bundle.mjs), and logs name errors by it.
  override name = "AppError";
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    /** Seconds, sent as `Retry-After` with `rate_limited`. */
    readonly retryAfterSeconds?: number,
    /** Per-field reasons, e.g. why a password was refused. */
    readonly details?: ErrorDetail[],
  ) {
    super(message ?? defaultMessages[code]);
    this.statusCode = errorCodes[code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetail[] };
}

export function errorBody(code: ErrorCode, message?: string, details?: ErrorDetail[]): ErrorBody {
  const body: ErrorBody = { error: { code, message: message ?? defaultMessages[code] } };
  if (details !== undefined && details.length > 0) body.error.details = details;
  return body;
}

/**
 * What a 401's `WWW-Authenticate: Bearer` challenge says beyond the realm: RFC 6750 §3.1 `invalid_token` for a
 * token that was presented and refused, RFC 9470 §3 `insufficient_user_authentication` for a live token whose
 * sign-in is not strong or recent enough. The description never carries the token or why it failed in detail.
 */
export interface BearerChallenge {
  error: "invalid_token" | "insufficient_user_authentication";
  description: string;
  /** RFC 9470: the sign-in must be at most this many seconds old. */
  maxAge?: number;
}

/** An AppError about the bearer token: the error handler adds its challenge to `WWW-Authenticate`. */
export class BearerError extends AppError {
  override name = "BearerError";
  constructor(
    code: ErrorCode,
    readonly challenge: BearerChallenge,
    message?: string,
  ) {
    super(code, message);
  }
}
