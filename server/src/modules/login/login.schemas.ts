import { Type } from "@sinclair/typebox";
import { AssertionResponse } from "../second-factor/passkey/passkey.schemas.js";
import { codeAliases } from "../second-factor/second-factor.schemas.js";
import { tokenFields } from "../session/session.schemas.js";

export const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 254, description: "Username or email" }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});

export const SecondFactorLoginBody = Type.Object({
  login_token: Type.String({ minLength: 1, maxLength: 128 }),
  ...codeAliases,
  recovery_code: Type.Optional(Type.String({ maxLength: 64 })),
  webauthn: Type.Optional(AssertionResponse),
  remember_device: Type.Optional(Type.Boolean()),
});

/** The reply to a first factor when two-factor is on; its field names are the SPEC's. */
export interface LoginChallenge {
  mfa_required: true;
  "2fa_required": true;
  login_token: string;
  methods: ("totp" | "recovery_code" | "webauthn")[];
  expires_in: number;
}

/** The login challenge (LoginChallenge); its field names are the SPEC's. */
export const ChallengeSchema = Type.Object({
  mfa_required: Type.Literal(true),
  "2fa_required": Type.Literal(true),
  "2fa_enabled": Type.Literal(true),
  login_token: Type.String(),
  methods: Type.Array(Type.String()),
  expires_in: Type.Integer(),
});

/** Every login reply says whether the account has two-factor on (seed 004's `2fa_enabled`). */
const secondFactorEnabled = { "2fa_enabled": Type.Boolean({ description: "Alias of user.mfa_enabled (seed 004)" }) };

/** What any first factor answers: tokens, or the challenge. */
export const LoginReply = Type.Union([
  Type.Object({ ...tokenFields, user: Type.Ref("User"), ...secondFactorEnabled }),
  ChallengeSchema,
]);
export const TokensReply = Type.Object({ ...tokenFields, user: Type.Ref("User"), ...secondFactorEnabled });
