import type { FastifyReply, FastifyRequest } from "fastify";
import { sendTokens } from "../session/session.cookies.js";
import type { TokenPair } from "../session/session.service.js";
import type { UserView } from "../user/user.service.js";
import type { LoginResult } from "./login.service.js";

/**
 * The reply to any first factor: tokens, or the second-factor challenge (which sets no cookie). Both
 * carry `2fa_enabled` for clients of seed 004.
 */
export function sendLoginResult(
  request: FastifyRequest,
  reply: FastifyReply,
  result: LoginResult,
  maxAgeSeconds: number,
): FastifyReply {
  if (result.kind === "challenge") return reply.send({ ...result.challenge, "2fa_enabled": true });
  return sendLoggedIn(request, reply, result.tokens, result.user, maxAgeSeconds);
}

/** Tokens after a login, with the user and `2fa_enabled`. */
export function sendLoggedIn(
  request: FastifyRequest,
  reply: FastifyReply,
  tokens: TokenPair,
  user: UserView,
  maxAgeSeconds: number,
): FastifyReply {
  return sendTokens(request, reply, tokens, maxAgeSeconds, { user, "2fa_enabled": user.mfa_enabled });
}
