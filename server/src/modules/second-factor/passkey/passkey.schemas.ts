import { Type, type Static } from "@sinclair/typebox";
import { NullableTime } from "../../../schemas.js";

const base64url = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: "^[A-Za-z0-9_-]+={0,2}$" });
const common = {
  id: base64url(1400),
  rawId: base64url(1400),
  type: Type.Literal("public-key"),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: Type.Object({}, { additionalProperties: true }),
};

/** What navigator.credentials.get() gives, as @simplewebauthn/browser's startAuthentication returns it. */
export const AssertionResponse = Type.Object(
  {
    ...common,
    response: Type.Object({
      clientDataJSON: base64url(4096),
      authenticatorData: base64url(4096),
      signature: base64url(1024),
      userHandle: Type.Optional(base64url(128)),
    }),
  },
  { description: "A WebAuthn assertion (PublicKeyCredential as JSON)" },
);
export type AssertionResponse = Static<typeof AssertionResponse>;

/** What navigator.credentials.create() gives, as @simplewebauthn/browser's startRegistration returns it. */
export const AttestationResponse = Type.Object(
  {
    ...common,
    response: Type.Object({
      clientDataJSON: base64url(4096),
      attestationObject: base64url(16384),
      authenticatorData: Type.Optional(base64url(16384)),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
      publicKeyAlgorithm: Type.Optional(Type.Integer()),
      publicKey: Type.Optional(base64url(4096)),
    }),
  },
  { description: "A WebAuthn attestation (PublicKeyCredential as JSON)" },
);
export type AttestationResponse = Static<typeof AttestationResponse>;

export const PasskeyName = Type.String({ minLength: 1, maxLength: 64, pattern: "\\S" });

export const PasskeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: Type.String({ format: "date-time" }),
  last_used_at: NullableTime,
  device_type: Type.String({ description: "singleDevice, or multiDevice for a synced passkey" }),
  backed_up: Type.Boolean(),
  transports: Type.Array(Type.String()),
  aaguid: Type.String(),
});

/** Options for navigator.credentials.create() / .get(), as @simplewebauthn/browser takes them. */
export const CreationOptions = Type.Object(
  { challenge: Type.String(), rp: Type.Object({}, { additionalProperties: true }) },
  { additionalProperties: true, description: "PublicKeyCredentialCreationOptionsJSON" },
);
export const RequestOptions = Type.Object(
  { challenge: Type.String() },
  { additionalProperties: true, description: "PublicKeyCredentialRequestOptionsJSON" },
);
