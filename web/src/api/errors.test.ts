import { describe, expect, it } from "vitest";
import { ApiError, fieldRefusal, messageFor, toApiError } from "./errors";

const specCodes = [
  "validation_failed",
  "invalid_token",
  "invalid_credentials",
  "mfa_required",
  "reauth_required",
  "invalid_otp",
  "otp_replayed",
  "login_token_expired",
  "unauthorized",
  "forbidden",
  "not_found",
  "user_exists",
  "mfa_already_enabled",
  "mfa_not_enabled",
  "mfa_setup_expired",
  "payload_too_large",
  "rate_limited",
];

describe("error messages", () => {
  it.each(specCodes)("has a distinct human message for %s", (code) => {
    expect(messageFor(code)).not.toBe(messageFor("internal_error"));
    expect(messageFor(code)).toMatch(/^[A-Z].*\.$/);
  });

  it("falls back to a generic message for an unknown code", () => {
    expect(messageFor("something_new")).toBe(messageFor("internal_error"));
  });

  it("says how long to wait when rate limited", () => {
    expect(messageFor("rate_limited", 1)).toBe("Too many attempts. Try again in 1 second.");
    expect(messageFor("rate_limited", 90)).toBe("Too many attempts. Try again in 2 minutes.");
  });

  it("does not blame the time alone when a sign-in's challenge ends (it also ends after too many wrong codes)", () => {
    expect(messageFor("login_token_expired")).toMatch(/too long, or had too many wrong codes/);
  });

  it("tells a wrong code from a reused one", () => {
    expect(messageFor("invalid_otp")).toMatch(/not right/);
    expect(messageFor("otp_replayed")).toMatch(/already used/);
  });
});

describe("fieldRefusal", () => {
  it("puts a wrong password on the password field, without the sign-in form's username wording", () => {
    expect(fieldRefusal("invalid_credentials")).toEqual({ field: "password", message: "The password is not correct." });
    expect(fieldRefusal("invalid_credentials")?.message).not.toMatch(/username/i);
  });

  it("puts a refused code on the code field, worded for what was typed", () => {
    expect(fieldRefusal("invalid_otp", "totp")).toEqual({ field: "code", message: messageFor("invalid_otp") });
    expect(fieldRefusal("invalid_otp", "recovery_code")?.message).toMatch(/^That recovery code is not right/);
    expect(fieldRefusal("invalid_otp", "recovery_code")?.message).not.toMatch(/authenticator app/);
    expect(fieldRefusal("otp_replayed")?.field).toBe("code");
    expect(fieldRefusal("mfa_required")).toEqual({
      field: "code",
      message: "Enter a code from your authenticator app, or a recovery code.",
    });
  });

  it("leaves every other code to the form", () => {
    expect(fieldRefusal("rate_limited")).toBeNull();
    expect(fieldRefusal("validation_failed")).toBeNull();
  });
});

describe("toApiError", () => {
  it("keeps the server's message apart from the human one", () => {
    const error = toApiError(
      401,
      { error: { code: "invalid_credentials", message: "Invalid username or password." } },
      null,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe("The username or password is incorrect.");
    expect(error.serverMessage).toBe("Invalid username or password.");
    expect(error.retryAfterSeconds).toBeUndefined();
  });

  it("keeps one reason per field, the first, and drops malformed details", () => {
    const body = {
      error: {
        code: "validation_failed",
        message: "x",
        details: [
          { field: "password", message: "is too short" },
          { field: "/body/password", message: "Appears in a list of breached passwords." },
          { field: "email" },
          "nonsense",
        ],
      },
    };
    expect(toApiError(422, body, null).fieldErrors()).toEqual({ password: "Is too short." });
  });

  it("rewords the validator's schema messages", () => {
    const body = {
      error: {
        code: "validation_failed",
        message: "x",
        details: [
          { field: "username", message: "must NOT have fewer than 1 characters" },
          { field: "email", message: 'must match format "email"' },
        ],
      },
    };
    expect(toApiError(422, body, null).fieldErrors()).toEqual({
      username: "This field is required.",
      email: "Enter a valid email address.",
    });
  });

  it.each([
    [404, "not_found"],
    [403, "forbidden"],
    [429, "rate_limited"],
    [500, "internal_error"],
  ])("guesses the code from status %i without a body", (status, code) => {
    expect(toApiError(status, null, null).code).toBe(code);
  });

  it("ignores a Retry-After that is not a number of seconds", () => {
    expect(toApiError(429, null, "Wed, 21 Oct 2015 07:28:00 GMT").retryAfterSeconds).toBeUndefined();
  });
});
