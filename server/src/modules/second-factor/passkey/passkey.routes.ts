import { Type, type TSchema } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { RateLimitFor } from "../../../plugins/rate-limit.js";
import { metaOf } from "../../../request-meta.js";
import { errorResponses, IdParams } from "../../../schemas.js";
import { sendTokens } from "../../session/session.cookies.js";
import { authOf, requireAuth } from "../../session/session.guard.js";
import { tokenFields } from "../../session/session.schemas.js";
import type { SessionService } from "../../session/session.service.js";
import type { SecondFactorEnrollment } from "../enrollment.service.js";
import { RecoveryCodes } from "../second-factor.schemas.js";
import type { PasskeyRow } from "./passkey.repository.js";
import { AttestationResponse, CreationOptions, PasskeyName, PasskeySchema, RequestOptions } from "./passkey.schemas.js";
import type { PasskeyFactor } from "./passkey.service.js";

const iso = (ms: number): string => new Date(ms).toISOString();

/** A passkey as its owner sees it: never more than its public facts. */
export function passkeyView(row: PasskeyRow) {
  return {
    id: row.id,
    name: row.name,
    created_at: iso(row.created_at),
    last_used_at: row.last_used_at === null ? null : iso(row.last_used_at),
    device_type: row.device_type,
    backed_up: row.backed_up === 1,
    transports: row.transports === "" ? [] : row.transports.split(","),
    aaguid: row.aaguid,
  };
}

const optional = <T extends Record<string, TSchema>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([key, schema]) => [key, Type.Optional(schema)]));

/** The account's passkeys (SPEC "Passkeys"): registration, list, rename, remove; options for re-authentication. */
export async function passkeyRoutes(
  fastify: FastifyInstance,
  deps: {
    passkeys: PasskeyFactor;
    enrollment: SecondFactorEnrollment;
    sessions: SessionService;
    refreshTokenTtlSeconds: number;
    rateLimit: RateLimitFor;
  },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { passkeys, enrollment, sessions } = deps;
  // Adding a passkey is enrolment: open to a session that has no second factor yet, if its sign-in is recent.
  // Open as well to a session held in enrolment by the two-factor policy (SPEC "Admin and policy").
  const enrolling = requireAuth(sessions, { level: "any", recent: true, duringEnrollment: true });
  const full = requireAuth(sessions);
  const limit = { rateLimit: deps.rateLimit(30, 60) };
  const tags = ["passkeys"];
  const security = [{ bearer: [] }];

  app.post(
    "/api/auth/passkeys/register/options",
    {
      schema: {
        tags,
        operationId: "passkeyRegistrationOptions",
        summary: "Creation options for a new passkey (recent sign-in needed)",
        security,
        response: { 200: CreationOptions, ...errorResponses },
      },
      preHandler: enrolling,
      config: limit,
    },
    async (request) => passkeys.registrationOptions(authOf(request).userId),
  );

  app.post(
    "/api/auth/passkeys/register/verify",
    {
      schema: {
        tags,
        operationId: "registerPasskey",
        summary: "Store a passkey from its attestation; the first second factor turns two-factor on",
        description:
          "When this passkey is the account's first second factor, two-factor turns on: the reply then carries " +
          "the ten recovery codes and the tokens of a new aal-2 session, and every other session ends.",
        security,
        body: Type.Object({ response: AttestationResponse, name: Type.Optional(PasskeyName) }),
        response: {
          200: Type.Object({
            passkey: PasskeySchema,
            mfa_enabled: Type.Literal(true),
            recovery_codes: Type.Optional(RecoveryCodes),
            ...optional(tokenFields),
          }),
          ...errorResponses,
        },
      },
      preHandler: enrolling,
      config: limit,
    },
    async (request, reply) => {
      const result = await enrollment.addPasskey(
        authOf(request),
        request.body.response,
        request.body.name,
        metaOf(request),
      );
      const body = { passkey: passkeyView(result.passkey), mfa_enabled: true as const };
      if (result.tokens === null || result.recoveryCodes === null) return body;
      return sendTokens(request, reply, result.tokens, deps.refreshTokenTtlSeconds, {
        ...body,
        recovery_codes: result.recoveryCodes,
      });
    },
  );

  app.get(
    "/api/auth/passkeys",
    {
      schema: {
        tags,
        operationId: "listPasskeys",
        summary: "The account's passkeys",
        security,
        response: { 200: Type.Object({ passkeys: Type.Array(PasskeySchema) }), ...errorResponses },
      },
      preHandler: requireAuth(sessions, { level: "any" }),
    },
    async (request) => ({ passkeys: (await passkeys.passkeys(authOf(request).userId)).map(passkeyView) }),
  );

  app.patch(
    "/api/auth/passkeys/:id",
    {
      schema: {
        tags,
        operationId: "renamePasskey",
        summary: "Rename a passkey",
        security,
        params: IdParams,
        body: Type.Object({ name: PasskeyName }),
        response: { 200: PasskeySchema, ...errorResponses },
      },
      preHandler: full,
      config: limit,
    },
    async (request) =>
      passkeyView(await passkeys.rename(authOf(request).userId, request.params.id, request.body.name, metaOf(request))),
  );

  app.delete(
    "/api/auth/passkeys/:id",
    {
      schema: {
        tags,
        operationId: "removePasskey",
        summary: "Remove a passkey (recent sign-in needed); the last second factor removed turns two-factor off",
        security,
        params: IdParams,
        response: { 200: Type.Object({ mfa_enabled: Type.Boolean() }), ...errorResponses },
      },
      preHandler: requireAuth(sessions, { recent: true }),
      config: limit,
    },
    async (request) => ({
      mfa_enabled: await enrollment.removePasskey(authOf(request), request.params.id, metaOf(request)),
    }),
  );

  app.post(
    "/api/auth/passkeys/reauth/options",
    {
      schema: {
        tags,
        operationId: "reauthPasskeyOptions",
        summary: "Request options to re-authenticate with a passkey; the assertion goes to /api/auth/reauth",
        security,
        response: { 200: RequestOptions, ...errorResponses },
      },
      preHandler: requireAuth(sessions, { level: "any" }),
      config: limit,
    },
    async (request) => passkeys.requestOptions({ purpose: "reauth", userId: authOf(request).userId }),
  );
}
