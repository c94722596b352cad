import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { RateLimitFor } from "../../plugins/rate-limit.js";
import { metaOf } from "../../request-meta.js";
import { errorResponses, IdParams } from "../../schemas.js";
import { sendTokens } from "../session/session.cookies.js";
import { authOf, requireAuth } from "../session/session.guard.js";
import { tokenFields } from "../session/session.schemas.js";
import type { SessionService } from "../session/session.service.js";
import type { SecondFactorEnrollment } from "./enrollment.service.js";
import {
  CodeBody,
  PasswordAndCodeBody,
  proofFactor,
  qrCodeImage,
  RecoveryCodes,
  requiredCode,
} from "./second-factor.schemas.js";
import { setupReply } from "./totp/totp.schemas.js";
import type { TOTPFactor } from "./totp/totp.service.js";
import type { TrustedDeviceService } from "./trusted-device/trusted-device.service.js";

/** Two-factor enrolment (`/api/auth/2fa/*`, SPEC §2) and forgetting a trusted device. */
export async function secondFactorRoutes(
  fastify: FastifyInstance,
  deps: {
    enrollment: SecondFactorEnrollment;
    totp: TOTPFactor;
    devices: TrustedDeviceService;
    sessions: SessionService;
    refreshTokenTtlSeconds: number;
    rateLimit: RateLimitFor;
  },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { enrollment, totp, devices, sessions } = deps;
  // Enrolment is open to any live session (a fresh account has no second factor yet), if its sign-in is recent:
  // a stolen token must not turn two-factor on and lock the owner out (SPEC "Re-authentication").
  const enrolling = requireAuth(sessions, { level: "any", recent: true });
  // Setup and its confirmation are what a session held in enrolment by the two-factor policy is for.
  const enrollingUnderPolicy = requireAuth(sessions, { level: "any", recent: true, duringEnrollment: true });
  const full = requireAuth(sessions);
  const limit = { rateLimit: deps.rateLimit(30, 60) };

  app.post(
    "/api/auth/2fa/setup",
    {
      schema: {
        tags: ["two-factor"],
        operationId: "beginSecondFactorSetup",
        summary: "Start TOTP enrolment: a new pending secret and its QR code",
        security: [{ bearer: [] }],
        response: { 200: Type.Ref("MFASetup"), ...errorResponses },
      },
      preHandler: enrollingUnderPolicy,
      config: limit,
    },
    async (request) => {
      return setupReply(await enrollment.beginSetup(authOf(request).userId));
    },
  );

  for (const format of ["png", "svg"] as const) {
    app.get(
      `/api/auth/2fa/qrcode.${format}`,
      {
        schema: {
          tags: ["two-factor"],
          operationId: `getSetupQRCode${format.toUpperCase()}`,
          summary: `QR code of the pending setup (${format.toUpperCase()}); never once two-factor is on`,
          security: [{ bearer: [] }],
          response: { 200: qrCodeImage(format), ...errorResponses },
        },
        preHandler: enrolling,
        config: limit,
      },
      async (request, reply) => {
        const image = await totp.pendingQRCode(authOf(request).userId, format);
        return reply
          .header("Cache-Control", "no-store")
          .type(format === "png" ? "image/png" : "image/svg+xml")
          .send(image);
      },
    );
  }

  app.post(
    "/api/auth/2fa/verify-setup",
    {
      schema: {
        tags: ["two-factor"],
        operationId: "confirmSecondFactorSetup",
        summary: "Confirm the pending secret with a code; turns two-factor on",
        security: [{ bearer: [] }],
        body: CodeBody,
        response: {
          200: Type.Object({ mfa_enabled: Type.Literal(true), recovery_codes: RecoveryCodes, ...tokenFields }),
          ...errorResponses,
        },
      },
      preHandler: enrollingUnderPolicy,
      config: limit,
    },
    async (request, reply) => {
      const auth = authOf(request);
      const result = await enrollment.confirmSetup(auth, requiredCode(request.body), metaOf(request));
      return sendTokens(request, reply, result.tokens, deps.refreshTokenTtlSeconds, {
        mfa_enabled: true,
        recovery_codes: result.recoveryCodes,
      });
    },
  );

  app.post(
    "/api/auth/2fa/disable",
    {
      schema: {
        tags: ["two-factor"],
        operationId: "disableSecondFactor",
        summary: "Turn two-factor off with the password and a code, recovery code or passkey",
        description:
          "The second factor is a TOTP or recovery code (`code`, or `otp`/`token`/`recovery_code`) or a passkey " +
          "assertion (`webauthn`, answering POST /api/auth/passkeys/reauth/options).",
        security: [{ bearer: [] }],
        body: PasswordAndCodeBody,
        response: { 200: Type.Object({ mfa_enabled: Type.Literal(false) }), ...errorResponses },
      },
      preHandler: full,
      config: limit,
    },
    async (request) => {
      const auth = authOf(request);
      await enrollment.disable(
        auth.userId,
        { password: request.body.password, ...requiredFactor(request.body) },
        metaOf(request),
        auth.sessionId,
      );
      return { mfa_enabled: false as const };
    },
  );

  app.post(
    "/api/auth/2fa/recovery-codes",
    {
      schema: {
        tags: ["two-factor"],
        operationId: "regenerateRecoveryCodes",
        summary: "Replace the recovery codes; the old set stops working",
        description:
          "Needs the password and a TOTP or recovery code or a passkey assertion (`webauthn`, answering " +
          "POST /api/auth/passkeys/reauth/options).",
        security: [{ bearer: [] }],
        body: PasswordAndCodeBody,
        response: { 200: Type.Object({ recovery_codes: RecoveryCodes }), ...errorResponses },
      },
      preHandler: full,
      config: limit,
    },
    async (request) => {
      const codes = await enrollment.regenerateRecoveryCodes(
        authOf(request).userId,
        { password: request.body.password, ...requiredFactor(request.body) },
        metaOf(request),
      );
      return { recovery_codes: codes };
    },
  );
  app.get(
    "/api/auth/2fa/status",
    {
      schema: {
        tags: ["two-factor"],
        operationId: "getSecondFactorStatus",
        summary: "Whether two-factor is on and how many recovery codes are left",
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({ mfa_enabled: Type.Boolean(), recovery_codes_remaining: Type.Integer({ minimum: 0 }) }),
          ...errorResponses,
        },
      },
      preHandler: enrolling,
    },
    async (request) => {
      const status = await enrollment.status(authOf(request).userId);
      return { mfa_enabled: status.enabled, recovery_codes_remaining: status.recoveryCodesRemaining };
    },
  );

  app.delete(
    "/api/auth/trusted-devices/:id",
    {
      schema: {
        tags: ["session"],
        operationId: "revokeTrustedDevice",
        summary: "Forget a trusted device",
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: full,
    },
    async (request, reply) => {
      await devices.revoke(authOf(request).userId, request.params.id, metaOf(request));
      return reply.code(204).send(null);
    },
  );
}

/** The code or passkey assertion of a body that must carry one; validation_failed (on `code`) when it has neither. */
function requiredFactor(body: Parameters<typeof proofFactor>[0]): ReturnType<typeof proofFactor> {
  const factor = proofFactor(body);
  return factor.webauthn === undefined ? { code: requiredCode(body) } : factor;
}
