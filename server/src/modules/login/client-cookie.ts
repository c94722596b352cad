import type { FastifyReply, FastifyRequest } from "fastify";
import { metaOf } from "../../request-meta.js";
import { knownClientDays, type ClientIdentity, type KnownClients } from "../attempt/known-clients.js";
import { secureCookie } from "../session/session.cookies.js";

/** The browser's own token (256 random bits), set at every successful sign-in: its key as a known client. */
export const clientCookie = "tessera_client";

export function readClientCookie(request: FastifyRequest): string | undefined {
  const value = request.cookies[clientCookie];
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/**
 * The client a sign-in comes from, as it becomes known to the account: its `tessera_client` cookie (a new
 * token when the browser has none yet) and its IP address. A login service remembers it in its transaction.
 */
export function clientOf(request: FastifyRequest, knownClients: KnownClients): ClientIdentity & { cookie: string } {
  return { cookie: readClientCookie(request) ?? knownClients.newCookieToken(), ip: metaOf(request).ip };
}

/** Sets the `tessera_client` cookie again for another 30 days, after a sign-in that issued tokens. */
export function setClientCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  void reply.setCookie(clientCookie, token, {
    httpOnly: true,
    sameSite: "strict",
    secure: secureCookie(request),
    path: "/api/auth",
    maxAge: knownClientDays * 24 * 60 * 60,
  });
}

/** After a sign-in that issued tokens without remembering its client: remembers it, then sets the cookie. */
export async function rememberClient(
  request: FastifyRequest,
  reply: FastifyReply,
  knownClients: KnownClients,
  userId: string,
): Promise<void> {
  const client = clientOf(request, knownClients);
  await knownClients.remember(userId, client);
  setClientCookie(request, reply, client.cookie);
}
