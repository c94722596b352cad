import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { httpLayerErrors } from "../../schemas.js";
import type { TokenService } from "./token.service.js";

const Jwk = Type.Object({
  kty: Type.String(),
  crv: Type.String(),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.String(),
  use: Type.String(),
});

/** The public keys other applications verify Tessera's access tokens with. */
export async function tokenRoutes(app: FastifyInstance, { tokens }: { tokens: TokenService }): Promise<void> {
  app.get(
    "/.well-known/jwks.json",
    {
      schema: {
        tags: ["tokens"],
        operationId: "getJWKS",
        security: [],
        summary: "Public keys that verify Tessera's access tokens",
        response: { 200: Type.Object({ keys: Type.Array(Jwk) }), ...httpLayerErrors },
      },
    },
    async (_request, reply) => {
      reply.header("Cache-Control", "public, max-age=300");
      return tokens.jwks();
    },
  );
}
