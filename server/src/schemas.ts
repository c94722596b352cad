import { Type, type TSchema } from "@sinclair/typebox";

/** The one error shape (SPEC §2); referenced by every route's response schema. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    }),
  },
  { $id: "ErrorResponse" },
);

export const errorResponses = {
  400: Type.Ref("ErrorResponse"),
  401: Type.Ref("ErrorResponse"),
  403: Type.Ref("ErrorResponse"),
  404: Type.Ref("ErrorResponse"),
  409: Type.Ref("ErrorResponse"),
  413: Type.Ref("ErrorResponse"),
  415: Type.Ref("ErrorResponse"),
  422: Type.Ref("ErrorResponse"),
  429: Type.Ref("ErrorResponse"),
};

// Nullable fields as one JSON Schema type list rather than anyOf: OpenAPI 3.1 documents them the same,
// and the response serializer writes them directly instead of validating the value against each branch.
export const NullableString = Type.Unsafe<string | null>({ type: ["string", "null"] });
export const NullableTime = Type.Unsafe<string | null>({ type: ["string", "null"], format: "date-time" });

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    username: Type.String(),
    email: NullableString,
    email_verified: Type.Boolean(),
    mfa_enabled: Type.Boolean(),
    created_at: Type.String({ format: "date-time" }),
    last_login_at: NullableTime,
    previous_login_at: NullableTime,
    roles: Type.Array(Type.String()),
  },
  { $id: "User" },
);

export const tokenFields = {
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal("Bearer"),
  expires_in: Type.Integer({ description: "Seconds until the access token expires" }),
};

export const MFASetupSchema = Type.Object(
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

export const ChallengeSchema = Type.Object({
  mfa_required: Type.Literal(true),
  "2fa_required": Type.Literal(true),
  login_token: Type.String(),
  methods: Type.Array(Type.String()),
  expires_in: Type.Integer(),
});

export const LoginReply = Type.Union([Type.Object({ ...tokenFields, user: Type.Ref("User") }), ChallengeSchema]);

/** Codes arrive as `code` or, for clients of the seed API, `otp` / `token` (SPEC §2). */
export const codeAliases = {
  code: Type.Optional(Type.String({ maxLength: 64 })),
  otp: Type.Optional(Type.String({ maxLength: 64 })),
  token: Type.Optional(Type.String({ maxLength: 64 })),
};

export function pickCode(body: {
  code?: string | undefined;
  otp?: string | undefined;
  token?: string | undefined;
}): string | undefined {
  return body.code ?? body.otp ?? body.token;
}

export const Password = (description: string): TSchema => Type.String({ minLength: 1, maxLength: 1024, description });
export const sharedSchemas = [ErrorResponse, UserSchema, MFASetupSchema];
