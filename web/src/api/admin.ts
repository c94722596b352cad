import { api, download } from "./client";
import type { AdminEvent, AdminUser, AdminUserDetail, Page, PolicyImpact } from "./types";

/** Endpoints of the server's admin module (role `admin` with two-factor, a recent sign-in). */

const user = (userId: string): string => `/api/admin/users/${encodeURIComponent(userId)}`;

/** A query string of the values that are set. */
function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

export interface UserFilter {
  q?: string;
  role?: string;
  mfa?: "on" | "off" | "";
  locked?: "true" | "false" | "";
  page?: number;
  limit?: number;
}

export function listUsers(filter: UserFilter = {}): Promise<Page & { users: AdminUser[] }> {
  return api.get(`/api/admin/users${query({ ...filter })}`);
}

export function getUser(userId: string): Promise<AdminUserDetail> {
  return api.get(user(userId));
}

export async function resetUserSecondFactor(userId: string): Promise<void> {
  await api.post<null>(`${user(userId)}/reset-2fa`);
}

export async function lockUser(userId: string): Promise<void> {
  await api.post<null>(`${user(userId)}/lock`);
}

export async function unlockUser(userId: string): Promise<void> {
  await api.post<null>(`${user(userId)}/unlock`);
}

export async function revokeUserSessions(userId: string): Promise<void> {
  await api.post<null>(`${user(userId)}/revoke-sessions`);
}

export async function setUserRoles(userId: string, roles: string[]): Promise<string[]> {
  return (await api.put<{ roles: string[] }>(`${user(userId)}/roles`, { roles })).roles;
}

export async function deleteUser(userId: string): Promise<void> {
  await api.delete<null>(user(userId));
}

export interface AuditFilter {
  user?: string;
  type?: string;
  since?: string;
  until?: string;
  page?: number;
  limit?: number;
}

export function listAuditEvents(filter: AuditFilter = {}): Promise<Page & { events: AdminEvent[] }> {
  return api.get(`/api/admin/audit${query({ ...filter })}`);
}

export function downloadAuditCsv(filter: AuditFilter): Promise<void> {
  const { page: _page, limit: _limit, ...rest } = filter;
  const day = new Date().toISOString().slice(0, 10);
  return download(`/api/admin/audit${query({ ...rest, format: "csv" })}`, `tessera-audit-${day}.csv`);
}

export interface Policy {
  require_2fa: string;
  affected: PolicyImpact;
}

export function getPolicy(): Promise<Policy> {
  return api.get("/api/admin/policy");
}

export function previewPolicy(value: string): Promise<PolicyImpact> {
  return api.get(`/api/admin/policy/impact${query({ require_2fa: value })}`);
}

export function setPolicy(value: string): Promise<Policy> {
  return api.put("/api/admin/policy", { require_2fa: value });
}
