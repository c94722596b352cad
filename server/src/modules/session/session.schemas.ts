import { Type } from "@sinclair/typebox";
import { NullableString } from "../../schemas.js";

/** The fields of every reply that carries a token pair. */
export const tokenFields = {
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal("Bearer"),
  expires_in: Type.Integer({ description: "Seconds until the access token expires" }),
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
