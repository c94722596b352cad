import { Type } from "@sinclair/typebox";
import { NullableString } from "../../schemas.js";

/** The fields of every reply that carries a token pair. */
export const tokenFields = {
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal("Bearer"),
  expires_in: Type.Integer({ description: "Seconds until the access token expires" }),
  enrollment_required: Type.Optional(
    Type.Boolean({
      description:
        "Present (true) when the two-factor policy covers this account and it has no second factor yet: the tokens " +
        "reach only GET /api/user/me, two-factor setup, passkey registration, refresh and logout " +
        "(403 enrollment_required elsewhere).",
    }),
  ),
};

export const Session = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  last_used_at: Type.String(),
  ip: NullableString,
  user_agent: NullableString,
  aal: Type.Integer(),
  amr: Type.Array(Type.String()),
  current: Type.Boolean(),
});
