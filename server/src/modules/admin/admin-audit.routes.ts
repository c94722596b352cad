import { Readable } from "node:stream";
import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { metaOf } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import type { AuditFilter } from "../audit/audit.repository.js";
import type { AuditService } from "../audit/audit.service.js";
import { requireAuth } from "../session/session.guard.js";
import type { SessionService } from "../session/session.service.js";
import * as users from "../user/user.repository.js";
import { normalizeUsername } from "../user/user.service.js";
import { actorOf } from "./admin.routes.js";
import { AuditPage, AuditQuery, pageOf, PolicyBody, PolicyImpact, PolicyView } from "./admin.schemas.js";
import { auditCsv } from "./audit-csv.js";
import type { PolicyService } from "./policy.service.js";

/** The audit log of every account (filters, pages, CSV) and the two-factor policy, for administrators. */
export async function adminAuditRoutes(
  fastify: FastifyInstance,
  deps: { db: Kysely<Database>; audit: AuditService; policy: PolicyService; sessions: SessionService },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { audit, policy, db } = deps;
  const preHandler = requireAuth(deps.sessions, { role: "admin" });
  const security = [{ bearer: [] }];
  const tags = ["admin"];

  /** `user` is an id or a username; null when it names nobody (then nothing matches). */
  async function userIdOf(user: string): Promise<string | null> {
    const found = (await users.findUserById(db, user)) ?? (await users.findUserByUsername(db, normalizeUsername(user)));
    return found?.id ?? null;
  }

  app.get(
    "/api/admin/audit",
    {
      schema: {
        tags,
        operationId: "adminListAuditEvents",
        summary: "Security events of every user, newest first; format=csv downloads every match as CSV",
        security,
        querystring: AuditQuery,
        response: {
          200: {
            description: "A page of events (JSON), or with format=csv every matching event",
            content: {
              "application/json": { schema: AuditPage },
              "text/csv": { schema: Type.String({ description: "time,type,user_id,username,actor_id,…" }) },
            },
          },
          ...errorResponses,
        },
      },
      preHandler,
    },
    async (request, reply) => {
      const { user, type, since, until, format } = request.query;
      const page = pageOf(request.query);
      const filter: AuditFilter = {
        ...(type === undefined ? {} : { type }),
        ...(since === undefined ? {} : { since: Date.parse(since) }),
        ...(until === undefined ? {} : { until: Date.parse(until) }),
      };
      // An id or username that names nobody matches no event ("" is no id).
      if (user !== undefined) filter.userId = (await userIdOf(user)) ?? "";
      if (format === "csv") {
        const day = new Date().toISOString().slice(0, 10);
        return reply
          .type("text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="tessera-audit-${day}.csv"`)
          .header("cache-control", "no-store")
          .send(Readable.from(auditCsv(audit, filter)));
      }
      const [events, total] = await Promise.all([
        audit.list({ ...filter, limit: page.limit, offset: page.offset }),
        audit.count(filter),
      ]);
      return { events, total, page: page.page, limit: page.limit };
    },
  );

  app.get(
    "/api/admin/policy",
    {
      schema: {
        tags,
        operationId: "adminGetPolicy",
        summary: "The two-factor policy, and whom it covers",
        security,
        response: { 200: PolicyView, ...errorResponses },
      },
      preHandler,
    },
    async () => policy.get(),
  );

  app.get(
    "/api/admin/policy/impact",
    {
      schema: {
        tags,
        operationId: "adminPreviewPolicy",
        summary: "Whom a policy would cover, before setting it",
        security,
        querystring: PolicyBody,
        response: { 200: PolicyImpact, ...errorResponses },
      },
      preHandler,
    },
    async (request) => policy.impact(request.query.require_2fa),
  );

  app.put(
    "/api/admin/policy",
    {
      schema: {
        tags,
        operationId: "adminSetPolicy",
        summary: "Set the two-factor policy: it applies to the next request of every session",
        security,
        body: PolicyBody,
        response: { 200: PolicyView, ...errorResponses },
      },
      preHandler,
    },
    async (request) => {
      await policy.set(actorOf(request), request.body.require_2fa, metaOf(request));
      return policy.get();
    },
  );
}
