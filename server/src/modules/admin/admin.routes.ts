import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { metaOf } from "../../request-meta.js";
import { errorResponses, IdParams } from "../../schemas.js";
import { AdminAuditEvent } from "../audit/audit.schemas.js";
import type { AuditService } from "../audit/audit.service.js";
import type { SecondFactorEnrollment } from "../second-factor/enrollment.service.js";
import { requireAuth } from "../session/session.guard.js";
import type { SessionService } from "../session/session.service.js";
import { UserSchema } from "../user/user.schemas.js";
import type { AdminService } from "./admin.service.js";

const Paging = Type.Object({
  limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
  offset: Type.Optional(Type.String({ pattern: "^[0-9]{1,9}$" })),
});
const AdminUser = Type.Composite([Type.Omit(UserSchema, []), Type.Object({ locked: Type.Boolean() })]);
/** Administrators (role `admin`, signed in with two-factor): users, their locks and two-factor, the audit log. */
export async function adminRoutes(
  fastify: FastifyInstance,
  deps: { admin: AdminService; enrollment: SecondFactorEnrollment; audit: AuditService; sessions: SessionService },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { admin, enrollment, audit } = deps;
  const guard = requireAuth(deps.sessions, { role: "admin" });
  const security = [{ bearer: [] }];

  app.get(
    "/api/admin/users",
    {
      schema: {
        tags: ["admin"],
        operationId: "adminListUsers",
        summary: "All users",
        security,
        querystring: Paging,
        response: { 200: Type.Object({ users: Type.Array(AdminUser) }), ...errorResponses },
      },
      preHandler: guard,
    },
    async (request) => ({
      users: await admin.listUsers(
        Math.min(Number(request.query.limit ?? 100), 1000),
        Number(request.query.offset ?? 0),
      ),
    }),
  );

  app.post(
    "/api/admin/users/:id/reset-2fa",
    {
      schema: {
        tags: ["admin"],
        operationId: "adminResetSecondFactor",
        summary: "Turn a user's two-factor off (they enrol again)",
        security,
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: guard,
    },
    async (request, reply) => {
      await enrollment.resetByAdmin(request.params.id, metaOf(request));
      return reply.code(204).send(null);
    },
  );

  for (const action of ["lock", "unlock"] as const) {
    app.post(
      `/api/admin/users/:id/${action}`,
      {
        schema: {
          tags: ["admin"],
          operationId: action === "lock" ? "adminLockUser" : "adminUnlockUser",
          summary: action === "lock" ? "Lock an account and end its sessions" : "Unlock an account",
          security,
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
        preHandler: guard,
      },
      async (request, reply) => {
        await admin.setLocked(request.params.id, action === "lock", metaOf(request));
        return reply.code(204).send(null);
      },
    );
  }

  app.get(
    "/api/admin/audit",
    {
      schema: {
        tags: ["admin"],
        operationId: "adminListAuditEvents",
        summary: "Security events of every user, newest first",
        security,
        querystring: Paging,
        response: { 200: Type.Object({ events: Type.Array(AdminAuditEvent) }), ...errorResponses },
      },
      preHandler: guard,
    },
    async (request) => ({ events: await audit.list({ limit: Math.min(Number(request.query.limit ?? 200), 1000) }) }),
  );
}
