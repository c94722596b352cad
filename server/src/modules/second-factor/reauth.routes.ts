import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { RateLimitFor } from "../../plugins/rate-limit.js";
import { metaOf } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import { sendTokens } from "../session/session.cookies.js";
import { authOf, requireAuth } from "../session/session.guard.js";
import { tokenFields } from "../session/session.schemas.js";
import type { SessionService } from "../session/session.service.js";
import { AssertionResponse } from "./passkey/passkey.schemas.js";
import type { ReauthService } from "./reauth.service.js";
import { codeAliases, pickCode } from "./second-factor.schemas.js";

const ReauthBody = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 1024, description: "The account's password" }),
  ...codeAliases,
  recovery_code: Type.Optional(Type.String({ maxLength: 64 })),
  webauthn: Type.Optional(AssertionResponse),
});

/** POST /api/auth/reauth (SPEC "Re-authentication"): the answer to 401 `reauth_required`. */
export async function reauthRoutes(
  fastify: FastifyInstance,
  deps: { reauth: ReauthService; sessions: SessionService; refreshTokenTtlSeconds: number; rateLimit: RateLimitFor },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    "/api/auth/reauth",
    {
      schema: {
        tags: ["session"],
        operationId: "reauthenticate",
        summary: "Prove it is you again: fresh tokens for this session with a new auth_time",
        description:
          "The password, and with two-factor on a current TOTP or recovery code (`code`, or `otp`/`token`) or a " +
          "passkey assertion (`webauthn`, answering POST /api/auth/passkeys/reauth/options). " +
          "Answers new tokens for the same session (same `sid`, `aal` and `amr`); sensitive actions then " +
          "work for REAUTH_MAX_AGE seconds. Wrong passwords count per account, wrong codes towards the lockout.",
        security: [{ bearer: [] }],
        body: ReauthBody,
        response: { 200: Type.Object(tokenFields), ...errorResponses },
      },
      // Any live session: one that still has to enrol a second factor re-authenticates with the password alone.
      preHandler: requireAuth(deps.sessions, { level: "any" }),
      config: { rateLimit: deps.rateLimit(30, 60) },
    },
    async (request, reply) => {
      const body = request.body;
      const proof = { password: body.password, code: pickCode(body) ?? body.recovery_code, webauthn: body.webauthn };
      const tokens = await deps.reauth.reauthenticate(authOf(request), proof, metaOf(request));
      return sendTokens(request, reply, tokens, deps.refreshTokenTtlSeconds);
    },
  );
}
