import { Type } from "@sinclair/typebox";
import type { TOTPSetup } from "./totp.service.js";

/**
 * A pending TOTP setup (TOTPSetup), as /2fa/setup and registration's `mfa_setup` answer it. Its
 * OpenAPI name "MFASetup" is part of /openapi.json, so it stays.
 */
export const TOTPSetupSchema = Type.Object(
  {
    secret: Type.String({ description: "Base32 secret for manual entry" }),
    otpauth_url: Type.String(),
    qr_png: Type.String({ description: "data:image/png;base64,… URL" }),
    qr_base64: Type.String({ description: "Alias of qr_png (seed 004)" }),
    provisioning_uri: Type.String({ description: "Alias of otpauth_url (seed 000)" }),
    qr_svg: Type.String(),
    expires_in: Type.Integer(),
  },
  { $id: "MFASetup" },
);

/** A setup as the routes answer it: with the field names clients of the seed APIs read (SPEC §2). */
export function setupReply(setup: TOTPSetup): TOTPSetup & { qr_base64: string; provisioning_uri: string } {
  return { ...setup, qr_base64: setup.qr_png, provisioning_uri: setup.otpauth_url };
}
