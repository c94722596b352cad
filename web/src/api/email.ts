import { api } from "./client";
import type { LoginReply, MailMessage } from "./types";

/** Endpoints behind emailed links (verify, magic link, password reset) and the dev mailbox. */

export function verifyEmail(token: string): Promise<{ email_verified: true }> {
  return api.post<{ email_verified: true }>("/api/auth/email/verify", { token });
}

/** Always answers 202, whether or not the address is known. */
export async function requestMagicLink(email: string): Promise<void> {
  await api.post<{ status: "accepted" }>("/api/auth/magic-link", { email }, { auth: false });
}

/** Tokens, or the same `mfa_required` challenge as a password login. */
export function verifyMagicLink(token: string): Promise<LoginReply> {
  return api.post<LoginReply>("/api/auth/magic-link/verify", { token }, { auth: false });
}

/** Always answers 202, whether or not the address is known. */
export async function requestPasswordReset(email: string): Promise<void> {
  await api.post<{ status: "accepted" }>("/api/auth/password/forgot", { email }, { auth: false });
}

export function resetPassword(token: string, newPassword: string): Promise<{ password_reset: true }> {
  return api.post<{ password_reset: true }>(
    "/api/auth/password/reset",
    { token, new_password: newPassword },
    { auth: false },
  );
}

/** Mail captured by the server outside production; 404 there. */
export async function listDevMail(): Promise<MailMessage[]> {
  const reply = await api.get<{ messages: MailMessage[] }>("/dev/mail", { auth: false });
  return reply.messages;
}
