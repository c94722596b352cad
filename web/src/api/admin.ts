import { api } from "./client";
import type { AdminEvent, AdminUser } from "./types";

/** Endpoints of the server's admin module (role `admin` with two-factor). */

export async function listUsers(): Promise<AdminUser[]> {
  const reply = await api.get<{ users: AdminUser[] }>("/api/admin/users");
  return reply.users;
}

export async function resetUserSecondFactor(userId: string): Promise<void> {
  await api.post<null>(`/api/admin/users/${encodeURIComponent(userId)}/reset-2fa`);
}

export async function lockUser(userId: string): Promise<void> {
  await api.post<null>(`/api/admin/users/${encodeURIComponent(userId)}/lock`);
}

export async function unlockUser(userId: string): Promise<void> {
  await api.post<null>(`/api/admin/users/${encodeURIComponent(userId)}/unlock`);
}

export async function listAuditEvents(): Promise<AdminEvent[]> {
  const reply = await api.get<{ events: AdminEvent[] }>("/api/admin/audit");
  return reply.events;
}
