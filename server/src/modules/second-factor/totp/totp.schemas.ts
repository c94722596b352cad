import { Type } from "@sinclair/typebox";

/**
 * A pending TOTP setup (TOTPSetup), as /2fa/setup and registration's `mfa_setup` answer it. Its
 * OpenAPI name "MFASetup" is part of /openapi.json, so it stays.
 */
export const TOTPSetupSchema = Type.Object(
  {
    secret: Type.String({ description: "Base32 secret for manual entry" }),
    otpauth_url: Type.String(),
    qr_png: Type.String({ description: "data:image/png;base64,… URL" }),
    qr_base64: Type.String({ description: "Alias of qr_png" }),
    qr_svg: Type.String(),
    expires_in: Type.Integer(),
  },
  { $id: "MFASetup" },
);
