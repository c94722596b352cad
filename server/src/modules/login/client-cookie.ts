import type { FastifyReply, FastifyRequest } from "fastify";
import { metaOf } from "../../request-meta.js";
import { knownClientDays, type KnownClients } from "../attempt/known-clients.js";
import { secureCookie } from "../session/session.cookies.js";

/** The browser's own token (256 random bits), set at every successful sign-in: its key as a known client. */
export const clientCookie = "tessera_client";

export function readClientCookie(request: FastifyRequest): string | undefined {
  const value = request.cookies[clientCookie];
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/**
 * After a sign-in that issued tokens: the browser (its cookie, made now if it has none) and the IP address
 * become known clients of the account, and the cookie is set again for another 30 days.
 */
export async function rememberClient(
  request: FastifyRequest,
  reply: FastifyReply,
  knownClients: KnownClients,
  userId: string,
): Promise<void> {
  const token = readClientCookie(request) ?? knownClients.newCookieToken();
  await knownClients.remember(userId, { cookie: token, ip: metaOf(request).ip });
  void reply.setCookie(clientCookie, token, {
    httpOnly: true,
    sameSite: "strict",
    secure: secureCookie(request),
    path: "/api/auth",
    maxAge: knownClientDays * 24 * 60 * 60,
  });
}
