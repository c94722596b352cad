import { api } from "./client";
import type { SecurityEvent, User } from "./types";

/** Endpoints of the server's user module: profile, password, email, deletion, own audit. */

export function getMe(): Promise<User> {
  return api.get<User>("/api/user/me");
}

/** `code` (TOTP or recovery code) is required when the account has two-factor on. */
export async function changePassword(currentPassword: string, newPassword: string, code?: string): Promise<void> {
  const body = { current_password: currentPassword, new_password: newPassword, ...withCode(code) };
  await api.post<null>("/api/user/password", body);
}

/** Sends a verification link to the new address; it is attached once confirmed. */
export async function changeEmail(email: string, password: string): Promise<void> {
  await api.post<{ status: "accepted" }>("/api/user/email", { email, password });
}

export async function deleteAccount(password: string, code?: string): Promise<void> {
  await api.delete<null>("/api/user", { password, ...withCode(code) });
}

/** Emails a link that deletes the account when opened. */
export async function requestDeletion(): Promise<void> {
  await api.post<{ status: "accepted" }>("/api/user/delete-request");
}

export async function confirmDeletion(token: string): Promise<void> {
  await api.post<null>("/api/user/delete-confirm", { token });
}

export async function listSecurityEvents(): Promise<SecurityEvent[]> {
  const reply = await api.get<{ events: SecurityEvent[] }>("/api/user/audit");
  return reply.events;
}

function withCode(code: string | undefined): { code?: string } {
  return code === undefined || code === "" ? {} : { code };
}
