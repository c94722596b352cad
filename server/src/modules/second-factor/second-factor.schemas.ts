import { Type } from "@sinclair/typebox";
import { AppError } from "../../errors.js";
import { NullableString } from "../../schemas.js";
import { AssertionResponse } from "./passkey/passkey.schemas.js";

/** Codes arrive as `code` or, for clients of the seed APIs, `otp` / `token` (SPEC §2). */
export const codeAliases = {
  code: Type.Optional(Type.String({ maxLength: 64 })),
  otp: Type.Optional(Type.String({ maxLength: 64 })),
  token: Type.Optional(Type.String({ maxLength: 64 })),
};

const present = (value: string | undefined): string | undefined => (value === "" ? undefined : value);

/** The code under whichever name carries one; an empty field counts as absent (`{"code": "", "otp": "123456"}`). */
export function pickCode(body: {
  code?: string | undefined;
  otp?: string | undefined;
  token?: string | undefined;
}): string | undefined {
  return present(body.code) ?? present(body.otp) ?? present(body.token);
}

/** A code under any of its names, or a recovery code; validation_failed when there is none. */
export function requiredCode(body: {
  code?: string | undefined;
  otp?: string | undefined;
  token?: string | undefined;
  recovery_code?: string | undefined;
}): string {
  const code = pickCode(body) ?? present(body.recovery_code);
  if (code === undefined || code === "") {
    throw new AppError("validation_failed", "A code is required.", undefined, [
      { field: "code", message: "is required" },
    ]);
  }
  return code;
}

/**
 * A passkey assertion in place of a code, for the routes that re-check the owner (SPEC "Re-authentication"): it
 * answers a challenge from POST /api/auth/passkeys/reauth/options, as on POST /api/auth/reauth.
 */
export const webauthnField = {
  webauthn: Type.Optional(AssertionResponse),
};

/**
 * The second factor of a body that re-checks the owner: a passkey assertion when one was sent, else the code under
 * any of its names (a recovery code too). Neither: both absent, and the service answers mfa_required when it needs one.
 */
export function proofFactor(body: {
  code?: string | undefined;
  otp?: string | undefined;
  token?: string | undefined;
  recovery_code?: string | undefined;
  webauthn?: AssertionResponse | undefined;
}): { code?: string; webauthn?: AssertionResponse } {
  if (body.webauthn !== undefined) return { webauthn: body.webauthn };
  const code = pickCode(body) ?? present(body.recovery_code);
  return code === undefined ? {} : { code };
}

export const CodeBody = Type.Object({ ...codeAliases });
export const PasswordAndCodeBody = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  ...codeAliases,
  recovery_code: Type.Optional(Type.String({ maxLength: 64 })),
  ...webauthnField,
});
/** The QR image routes' 200 for OpenAPI: the image itself, not JSON (a Buffer skips the serializer). */
export function qrCodeImage(format: "png" | "svg"): Record<string, unknown> {
  const type = format === "png" ? "image/png" : "image/svg+xml";
  return {
    description: `The QR code of the pending otpauth:// URI as ${format.toUpperCase()}`,
    content: { [type]: { schema: { type: "string", format: "binary" } } },
  };
}
export const RecoveryCodes = Type.Array(Type.String(), { minItems: 10, maxItems: 10 });
export const TrustedDevice = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  expires_at: Type.String(),
  user_agent: NullableString,
});
