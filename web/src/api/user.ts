import { api } from "./client";
import { secondFactorFields, type SecondFactorProof } from "./second-factor";
import type { SecurityEvent, User } from "./types";

/** Endpoints of the server's user module: profile, password, email, deletion, own audit. */

export function getMe(): Promise<User> {
  return api.get<User>("/api/user/me");
}

/** A code or a passkey assertion is required when the account has two-factor on. */
export async function changePassword(
  currentPassword: string,
  newPassword: string,
  factor?: SecondFactorProof,
): Promise<void> {
  const body = { current_password: currentPassword, new_password: newPassword, ...secondFactorFields(factor) };
  await api.post<null>("/api/user/password", body);
}

/** Sends a verification link to the new address; it is attached once confirmed. */
export async function changeEmail(email: string, password: string): Promise<void> {
  await api.post<{ status: "accepted" }>("/api/user/email", { email, password });
}

export async function deleteAccount(password: string, factor?: SecondFactorProof): Promise<void> {
  await api.delete<null>("/api/user", { password, ...secondFactorFields(factor) });
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
