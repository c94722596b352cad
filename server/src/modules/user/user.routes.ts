import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { authOf, metaOf, requireAuth } from "../../plugins/auth-guard.js";
import { clearSessionCookies } from "../../plugins/cookies.js";
import type { RouteDeps } from "../../routes.js";
import { cachedUserView } from "./user.service.js";
import { codeAliases, errorResponses, NullableString, NullableTime, pickCode } from "../../schemas.js";

const ChangePasswordBody = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: 1024 }),
  new_password: Type.String({ minLength: 1, maxLength: 1024 }),
  ...codeAliases,
});
const DeleteBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }), ...codeAliases });
export const AuditEvent = Type.Object({
  id: Type.String(),
  type: Type.String(),
  ip: NullableString,
  user_agent: NullableString,
  created_at: NullableTime,
});

export async function userRoutes(fastify: FastifyInstance, { services, rateLimit }: RouteDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { users, sessions, audit } = services;
  const guard = requireAuth(sessions);
  const reauthPerIP = { rateLimit: rateLimit(10, 60) };

  app.get(
    "/api/user/me",
    {
      schema: {
        tags: ["user"],
        summary: "The signed-in user",
        security: [{ bearer: [] }],
        response: { 200: Type.Ref("User"), ...errorResponses },
      },
      preHandler: guard,
    },
    async (request) => cachedUserView(authOf(request).user),
  );

  app.post(
    "/api/user/password",
    {
      schema: {
        tags: ["user"],
        summary: "Change the password; other sessions are revoked",
        security: [{ bearer: [] }],
        body: ChangePasswordBody,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: guard,
      config: reauthPerIP,
    },
    async (request, reply) => {
      const { current_password, new_password } = request.body;
      const auth = authOf(request);
      await users.changePassword(
        auth,
        { current_password, new_password, code: pickCode(request.body) },
        metaOf(request),
      );
      return reply.code(204).send(null);
    },
  );

  app.delete(
    "/api/user",
    {
      schema: {
        tags: ["user"],
        summary: "Delete the account and everything of it",
        security: [{ bearer: [] }],
        body: DeleteBody,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: guard,
      config: reauthPerIP,
    },
    async (request, reply) => {
      const { userId } = authOf(request);
      await users.deleteAccount(
        userId,
        { password: request.body.password, code: pickCode(request.body) },
        metaOf(request),
      );
      clearSessionCookies(reply);
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/api/user/audit",
    {
      schema: {
        tags: ["user"],
        summary: "The user's own security events, newest first",
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ events: Type.Array(AuditEvent) }), ...errorResponses },
      },
      preHandler: guard,
    },
    async (request) => ({ events: await audit.list({ userId: authOf(request).userId, limit: 100 }) }),
  );
}
