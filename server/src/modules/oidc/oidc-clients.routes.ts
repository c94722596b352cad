import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { metaOf } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import { authOf, requireAuth } from "../session/session.guard.js";
import type { SessionService } from "../session/session.types.js";
import type { OidcClientService } from "./oidc-client.service.js";

const Uri = Type.String({ minLength: 1, maxLength: 2000 });
const OidcClient = Type.Object({
  client_id: Type.String(),
  name: Type.String(),
  public: Type.Boolean(),
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String()),
  first_party: Type.Boolean(),
  require_2fa: Type.Boolean(),
  created_at: Type.String({ format: "date-time" }),
});
const NewOidcClient = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  redirect_uris: Type.Array(Uri, { minItems: 1, maxItems: 20 }),
  post_logout_redirect_uris: Type.Optional(Type.Array(Uri, { maxItems: 20 })),
  public: Type.Optional(Type.Boolean()),
  require_2fa: Type.Optional(Type.Boolean()),
  first_party: Type.Optional(Type.Boolean()),
});

/**
 * Administrators register the applications that sign in through Tessera (SPEC "Other applications sign in
 * through Tessera"): role admin, signed in with two-factor, recently (the admin guard).
 */
export async function oidcClientRoutes(
  fastify: FastifyInstance,
  deps: { clients: OidcClientService; sessions: SessionService },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { clients } = deps;
  const guard = requireAuth(deps.sessions, { role: "admin" });
  const security = [{ bearer: [] }];

  app.get(
    "/api/admin/oidc-clients",
    {
      schema: {
        tags: ["admin"],
        operationId: "adminListOidcClients",
        summary: "Applications that sign in through Tessera (OpenID Connect)",
        security,
        response: { 200: Type.Object({ clients: Type.Array(OidcClient) }), ...errorResponses },
      },
      preHandler: guard,
    },
    async () => ({ clients: await clients.list() }),
  );

  app.post(
    "/api/admin/oidc-clients",
    {
      schema: {
        tags: ["admin"],
        operationId: "adminCreateOidcClient",
        summary: "Register an application; its client_secret is shown in this reply only",
        security,
        body: NewOidcClient,
        response: {
          201: Type.Composite([OidcClient, Type.Object({ client_secret: Type.Optional(Type.String()) })]),
          ...errorResponses,
        },
      },
      preHandler: guard,
    },
    async (request, reply) => {
      const created = await clients.create(request.body, metaOf(request), authOf(request).userId);
      return reply.code(201).send({
        ...created.client,
        ...(created.client_secret === undefined ? {} : { client_secret: created.client_secret }),
      });
    },
  );

  app.delete(
    "/api/admin/oidc-clients/:client_id",
    {
      schema: {
        tags: ["admin"],
        operationId: "adminDeleteOidcClient",
        summary: "Remove an application, with every grant and token it holds",
        security,
        params: Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: guard,
    },
    async (request, reply) => {
      await clients.remove(request.params.client_id, metaOf(request), authOf(request).userId);
      return reply.code(204).send(null);
    },
  );
}
