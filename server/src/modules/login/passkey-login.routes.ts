import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { RateLimitFor } from "../../plugins/rate-limit.js";
import { metaOf } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import { AssertionResponse, RequestOptions } from "../second-factor/passkey/passkey.schemas.js";
import { TokensReply } from "./login.schemas.js";
import { sendLoggedIn } from "./login.reply.js";
import type { PasskeyLoginService } from "./passkey-login.service.js";

/** Passkeys at sign-in (SPEC "Passkeys"): options for the second step, and passwordless sign-in. */
export async function passkeyLoginRoutes(
  fastify: FastifyInstance,
  deps: { passkeyLogin: PasskeyLoginService; refreshTokenTtlSeconds: number; rateLimit: RateLimitFor },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { passkeyLogin, rateLimit } = deps;

  app.post(
    "/api/auth/2fa/webauthn/options",
    {
      schema: {
        tags: ["passkeys"],
        operationId: "secondFactorPasskeyOptions",
        security: [],
        summary: "Request options for the passkeys of a login's user; the assertion goes to /api/auth/2fa/login",
        body: Type.Object({ login_token: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: RequestOptions, ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request) => passkeyLogin.secondFactorOptions(request.body.login_token),
  );

  app.post(
    "/api/auth/passkeys/login/options",
    {
      schema: {
        tags: ["passkeys"],
        operationId: "passwordlessPasskeyOptions",
        security: [],
        summary: "Request options for signing in with a passkey alone (discoverable, user verification required)",
        response: { 200: RequestOptions, ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async () => passkeyLogin.passwordlessOptions(),
  );

  app.post(
    "/api/auth/passkeys/login/verify",
    {
      schema: {
        tags: ["passkeys"],
        operationId: "passwordlessPasskeyLogin",
        security: [],
        summary: "Sign in with a user-verifying passkey: tokens with amr hwk+user and aal 2",
        body: Type.Object({ response: AssertionResponse }),
        response: { 200: TokensReply, ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request, reply) => {
      const result = await passkeyLogin.passwordless(request.body.response, metaOf(request));
      return sendLoggedIn(request, reply, result.tokens, result.user, deps.refreshTokenTtlSeconds);
    },
  );
}
