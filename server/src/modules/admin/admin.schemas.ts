import { Type } from "@sinclair/typebox";
import { NullableString } from "../../schemas.js";
import { AdminAuditEvent } from "../audit/audit.schemas.js";
import { Session } from "../session/session.schemas.js";
import { UserSchema } from "../user/user.schemas.js";

const roleName = "^[a-z][a-z0-9_-]{0,31}$";

export const Paging = {
  page: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,6}$", description: "From 1 (default 1)" })),
  limit: Type.Optional(
    Type.String({ pattern: "^[1-9][0-9]{0,2}$", description: "Per page, at most 200 (default 50)" }),
  ),
};

/** page/limit as numbers: page from 1, limit 1…200. */
export function pageOf(query: { page?: string | undefined; limit?: string | undefined }): {
  limit: number;
  offset: number;
  page: number;
} {
  const limit = Math.min(Number(query.limit ?? 50), 200);
  const page = Number(query.page ?? 1);
  return { limit, page, offset: (page - 1) * limit };
}

export const UsersQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 100, description: "Part of the username or email address" })),
  role: Type.Optional(Type.String({ pattern: roleName })),
  mfa: Type.Optional(Type.Union([Type.Literal("on"), Type.Literal("off")])),
  locked: Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false")])),
  ...Paging,
});

export const AdminUser = Type.Composite([Type.Omit(UserSchema, []), Type.Object({ locked: Type.Boolean() })]);

export const UsersPage = Type.Object({
  users: Type.Array(AdminUser),
  total: Type.Integer({ minimum: 0 }),
  page: Type.Integer({ minimum: 1 }),
  limit: Type.Integer({ minimum: 1 }),
});

export const Factor = Type.Object({
  kind: Type.String({ description: "totp, recovery_codes or passkey" }),
  name: NullableString,
  created_at: Type.String({ format: "date-time" }),
  count: Type.Integer({ minimum: 1 }),
});

export const UserDetail = Type.Object({
  user: AdminUser,
  factors: Type.Array(Factor),
  sessions: Type.Array(Session),
  events: Type.Array(AdminAuditEvent),
});

export const RolesBody = Type.Object({
  roles: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 }),
});

export const AuditQuery = Type.Object({
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: "A user's id or username" })),
  type: Type.Optional(Type.String({ pattern: "^[a-z_]{1,64}$" })),
  since: Type.Optional(Type.String({ format: "date-time", description: "Inclusive" })),
  until: Type.Optional(Type.String({ format: "date-time", description: "Exclusive" })),
  format: Type.Optional(Type.Union([Type.Literal("json"), Type.Literal("csv")])),
  ...Paging,
});

export const AuditPage = Type.Object({
  events: Type.Array(AdminAuditEvent),
  total: Type.Integer({ minimum: 0 }),
  page: Type.Integer({ minimum: 1 }),
  limit: Type.Integer({ minimum: 1 }),
});

const policyText = Type.String({
  maxLength: 1100,
  description: "off, all, admins, or role:NAME,… (administrators always need two-factor)",
  examples: ["off", "all", "admins", "role:ops,finance"],
});

export const PolicyImpact = Type.Object({
  users: Type.Integer({ minimum: 0, description: "Accounts the policy covers" }),
  without_second_factor: Type.Integer({
    minimum: 0,
    description: "Of those, accounts with no second factor yet: they are taken into enrolment at their next request",
  }),
});

export const PolicyBody = Type.Object({ require_2fa: policyText });
export const PolicyView = Type.Object({ require_2fa: Type.String(), affected: PolicyImpact });
