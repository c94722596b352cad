import { Type } from "@sinclair/typebox";
import { NullableString, NullableTime } from "../../schemas.js";

/** A user as the API shows it (UserView); registered once and referenced as "User". */
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
