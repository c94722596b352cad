import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { metaOf } from "../../request-meta.js";
import { errorResponses, IdParams } from "../../schemas.js";
import { authOf, requireAuth } from "../session/session.guard.js";
import type { SessionService } from "../session/session.service.js";
import type { Actor, AdminService } from "./admin.service.js";
import { pageOf, RolesBody, UserDetail, UsersPage, UsersQuery } from "./admin.schemas.js";

/** The signed-in administrator, whom the audit log names as the actor. */
export const actorOf = (request: FastifyRequest): Actor => ({ id: authOf(request).userId });

/**
 * Administrators' user management (SPEC §2 "Admin and policy"): role `admin`, a session that passed
 * two-factor and a recent sign-in (the guard's `role: "admin"`); every change is audited with its actor.
 */
export async function adminRoutes(
  fastify: FastifyInstance,
  deps: { admin: AdminService; sessions: SessionService },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { admin } = deps;
  const preHandler = requireAuth(deps.sessions, { role: "admin" });
  const security = [{ bearer: [] }];
  const tags = ["admin"];

  app.get(
    "/api/admin/users",
    {
      schema: {
        tags,
        operationId: "adminListUsers",
        summary: "Users: search, filters and a page, with the total that match",
        security,
        querystring: UsersQuery,
        response: { 200: UsersPage, ...errorResponses },
      },
      preHandler,
    },
    async (request) => {
      const { q, role, mfa, locked } = request.query;
      const page = pageOf(request.query);
      const filter = {
        ...(q === undefined ? {} : { q }),
        ...(role === undefined ? {} : { role }),
        ...(mfa === undefined ? {} : { mfa: mfa === "on" }),
        ...(locked === undefined ? {} : { locked: locked === "true" }),
      };
      const result = await admin.listUsers(filter, page);
      return { ...result, page: page.page, limit: page.limit };
    },
  );

  app.get(
    "/api/admin/users/:id",
    {
      schema: {
        tags,
        operationId: "adminGetUser",
        summary: "A user with their second factors (kinds, names, dates), sessions and recent events",
        security,
        params: IdParams,
        response: { 200: UserDetail, ...errorResponses },
      },
      preHandler,
    },
    async (request) => admin.userDetail(request.params.id),
  );

  const actions = [
    ["lock", "adminLockUser", "Lock an account: its sessions end and every way of signing in is refused"],
    ["unlock", "adminUnlockUser", "Unlock an account"],
    ["revoke-sessions", "adminRevokeUserSessions", "End every session of a user"],
    ["reset-2fa", "adminResetSecondFactor", "Remove every second factor and recovery code (the user enrols again)"],
  ] as const;
  for (const [action, operationId, summary] of actions) {
    app.post(
      `/api/admin/users/:id/${action}`,
      {
        schema: {
          tags,
          operationId,
          summary,
          security,
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
        preHandler,
      },
      async (request, reply) => {
        const { id } = request.params;
        const actor = actorOf(request);
        const meta = metaOf(request);
        if (action === "lock" || action === "unlock") await admin.setLocked(actor, id, action === "lock", meta);
        else if (action === "revoke-sessions") await admin.revokeSessions(actor, id, meta);
        else await admin.resetSecondFactor(actor, id, meta);
        return reply.code(204).send(null);
      },
    );
  }

  app.put(
    "/api/admin/users/:id/roles",
    {
      schema: {
        tags,
        operationId: "adminSetUserRoles",
        summary: "Replace a user's roles (409 last_admin when no other administrator would remain)",
        security,
        params: IdParams,
        body: RolesBody,
        response: { 200: Type.Object({ roles: Type.Array(Type.String()) }), ...errorResponses },
      },
      preHandler,
    },
    async (request) => ({
      roles: await admin.setRoles(actorOf(request), request.params.id, request.body.roles, metaOf(request)),
    }),
  );

  app.delete(
    "/api/admin/users/:id",
    {
      schema: {
        tags,
        operationId: "adminDeleteUser",
        summary: "Delete a user and everything of theirs (409 last_admin for the last administrator)",
        security,
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler,
    },
    async (request, reply) => {
      await admin.deleteUser(actorOf(request), request.params.id, metaOf(request));
      return reply.code(204).send(null);
    },
  );
}
