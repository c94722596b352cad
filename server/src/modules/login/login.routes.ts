import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../errors.js";
import { utf8Problem } from "../../plugins/input-guard.js";
import type { RateLimitFor } from "../../plugins/rate-limit.js";
import { metaOf } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import { Accepted, acceptedBody, EmailBody, TokenBody } from "../email/email.schemas.js";
import { pickCode } from "../second-factor/second-factor.schemas.js";
import { readDeviceCookie, setDeviceCookie } from "../second-factor/trusted-device/device-cookie.js";
import { LoginBody, LoginReply, SecondFactorLoginBody, TokensReply } from "./login.schemas.js";
import { sendLoggedIn, sendLoginResult } from "./login.reply.js";
import type { LoginResult, LoginService } from "./login.service.js";
import { clientOf, readClientCookie, rememberClient, setClientCookie } from "./client-cookie.js";
import type { KnownClients } from "../attempt/known-clients.js";
import type { MagicLinkService } from "./magic-link.service.js";

/** Both steps of a login (SPEC §2): a first factor (password or emailed link), then a second one. */
export async function loginRoutes(
  fastify: FastifyInstance,
  deps: {
    login: LoginService;
    magicLinks: MagicLinkService;
    knownClients: KnownClients;
    refreshTokenTtlSeconds: number;
    rateLimit: RateLimitFor;
  },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { login, magicLinks, knownClients, rateLimit } = deps;
  /** Every sign-in that issues tokens makes its client known to the account (SPEC "Accounts and login"). */
  const known = async (request: FastifyRequest, reply: FastifyReply, result: LoginResult): Promise<void> => {
    if (result.kind === "tokens") await rememberClient(request, reply, knownClients, result.user.id);
  };
  const cookieMaxAge = deps.refreshTokenTtlSeconds;

  app.post(
    "/api/auth/login",
    {
      schema: {
        tags: ["auth"],
        operationId: "login",
        security: [{}, { basic: [] }],
        "x-body-optional": true, // HTTP Basic with no body is allowed (plugins/swagger.ts reads this)
        summary: "Password login (JSON body, or HTTP Basic with no body)",
        body: LoginBody,
        response: { 200: LoginReply, ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
      preValidation: async (request) => {
        // Scripts may send the credentials as HTTP Basic instead of a body (SPEC §2).
        const header = request.headers.authorization;
        if (request.body === undefined && header?.startsWith("Basic ")) {
          const bytes = Buffer.from(header.slice(6), "base64");
          const problem = utf8Problem(bytes, "Authorization header");
          if (problem !== null) throw problem;
          const decoded = bytes.toString("utf8");
          const separator = decoded.indexOf(":");
          if (separator > 0)
            request.body = { username: decoded.slice(0, separator), password: decoded.slice(separator + 1) };
        }
      },
    },
    async (request, reply) => {
      const client = clientOf(request, knownClients);
      const input = {
        ...request.body,
        deviceCookie: readDeviceCookie(request),
        clientCookie: readClientCookie(request),
        client,
      };
      const result = await login.loginWithPassword(input, metaOf(request)).catch((error: unknown) => {
        if (error instanceof AppError && error.code === "invalid_credentials")
          app.metrics.logins.inc({ result: "failed" });
        throw error;
      });
      app.metrics.logins.inc({ result: result.kind === "challenge" ? "mfa_required" : "ok" });
      // The login remembered its client in its transaction; the browser gets its cookie.
      if (result.kind === "tokens") setClientCookie(request, reply, client.cookie);
      return sendLoginResult(request, reply, result, cookieMaxAge);
    },
  );

  app.post(
    "/api/auth/2fa/login",
    {
      schema: {
        tags: ["two-factor"],
        operationId: "loginSecondFactor",
        security: [],
        summary: "Finish a login with a TOTP code, a recovery code or a passkey assertion (`webauthn`)",
        body: SecondFactorLoginBody,
        response: { 200: TokensReply, ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request, reply) => {
      const body = request.body;
      const code = pickCode(body);
      const recoveryCode = body.recovery_code === "" ? undefined : body.recovery_code;
      if ([code, recoveryCode, body.webauthn].filter((v) => v !== undefined).length !== 1) {
        throw new AppError("validation_failed", "Send exactly one of code, recovery_code or webauthn.", undefined, [
          { field: "code", message: "exactly one of code, recovery_code or webauthn is required" },
        ]);
      }
      const client = clientOf(request, knownClients);
      const result = await login.loginWithSecondFactor(
        {
          client,
          loginToken: body.login_token,
          code,
          recoveryCode,
          webauthn: body.webauthn,
          rememberDevice: body.remember_device,
        },
        metaOf(request),
      );
      if (result.device !== undefined)
        setDeviceCookie(request, reply, result.device.token, result.device.maxAgeSeconds);
      setClientCookie(request, reply, client.cookie);
      return sendLoggedIn(request, reply, result.tokens, result.user, cookieMaxAge);
    },
  );

  app.post(
    "/api/auth/magic-link",
    {
      schema: {
        tags: ["email"],
        operationId: "requestMagicLink",
        security: [],
        summary: "Email a sign-in link to a verified address (202 whatever the address)",
        body: EmailBody,
        response: { ...Accepted, ...errorResponses },
      },
      config: { rateLimit: rateLimit(10, 60) },
    },
    async (request, reply) => {
      await magicLinks.requestMagicLink(request.body.email, metaOf(request), readClientCookie(request));
      return reply.code(202).send(acceptedBody);
    },
  );

  app.post(
    "/api/auth/magic-link/verify",
    {
      schema: {
        tags: ["email"],
        operationId: "verifyMagicLink",
        security: [],
        summary: "Sign in with the emailed link: tokens, or the mfa_required challenge when two-factor is on",
        body: TokenBody,
        response: { 200: LoginReply, ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request, reply) => {
      const result = await magicLinks.loginWithMagicLink(request.body.token, metaOf(request));
      await known(request, reply, result);
      return sendLoginResult(request, reply, result, cookieMaxAge);
    },
  );
}
