import { Type } from "@sinclair/typebox";
import { AppError } from "../../errors.js";
import { NullableString } from "../../schemas.js";

/** Codes arrive as `code` or, for clients of the seed API, `otp` / `token` (SPEC §2). */
export const codeAliases = {
  code: Type.Optional(Type.String({ maxLength: 64 })),
  otp: Type.Optional(Type.String({ maxLength: 64 })),
  token: Type.Optional(Type.String({ maxLength: 64 })),
};

/** The code under whichever name carries one; an empty field counts as absent (`{"code": "", "otp": "…"}`). */
export function pickCode(body: {
  code?: string | undefined;
  otp?: string | undefined;
  token?: string | undefined;
}): string | undefined {
  return [body.code, body.otp, body.token].find((code) => code !== undefined && code !== "");
}

/** A code under any of its names, or a recovery code; validation_failed when there is none. */
export function requiredCode(body: {
  code?: string | undefined;
  otp?: string | undefined;
  token?: string | undefined;
  recovery_code?: string | undefined;
}): string {
  const code = pickCode(body) ?? body.recovery_code;
  if (code === undefined || code === "") {
    throw new AppError("validation_failed", "A code is required.", undefined, [
      { field: "code", message: "is required" },
    ]);
  }
  return code;
}

export const CodeBody = Type.Object({ ...codeAliases });
export const PasswordAndCodeBody = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  ...codeAliases,
  recovery_code: Type.Optional(Type.String({ maxLength: 64 })),
});
export const RecoveryCodes = Type.Array(Type.String(), { minItems: 10, maxItems: 10 });
export const TrustedDevice = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  expires_at: Type.String(),
  user_agent: NullableString,
});
