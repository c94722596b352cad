import { api } from "./client";

/** Endpoints of the server's forward-auth module. */

/**
 * The address to send the browser back to after signing in, when the server agrees it is a site under
 * COOKIE_DOMAIN (it answers 422 for anything else: no open redirect); the URL as the server parsed it.
 */
export async function checkReturnUrl(rd: string): Promise<string> {
  const reply = await api.get<{ url: string }>(`/api/forward-auth/return-url?rd=${encodeURIComponent(rd)}`, {
    auth: false,
  });
  return reply.url;
}
