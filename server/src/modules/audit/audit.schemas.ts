import { Type } from "@sinclair/typebox";
import { NullableString, NullableTime } from "../../schemas.js";

/** One event of the audit log as a user sees it (GET /api/user/audit). */
export const AuditEvent = Type.Object({
  id: Type.String(),
  type: Type.String(),
  ip: NullableString,
  user_agent: NullableString,
  created_at: NullableTime,
});

/** One event as an administrator sees it, with whose it is (GET /api/admin/audit). */
export const AdminAuditEvent = Type.Composite([
  AuditEvent,
  Type.Object({
    user_id: NullableString,
    username: NullableString,
    /** The administrator who acted, when not the user themselves. */
    actor_id: NullableString,
    actor_username: NullableString,
    detail: Type.Union([
      Type.Null(),
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    ]),
  }),
]);
