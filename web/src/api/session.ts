import { api } from "./client";
import type { SessionList } from "./types";

/** Endpoints of the server's session module: active sessions and trusted devices. */

export function listSessions(): Promise<SessionList> {
  return api.get<SessionList>("/api/auth/sessions");
}

export async function revokeSession(id: string): Promise<void> {
  await api.delete<null>(`/api/auth/sessions/${encodeURIComponent(id)}`);
}

export async function revokeTrustedDevice(id: string): Promise<void> {
  await api.delete<null>(`/api/auth/trusted-devices/${encodeURIComponent(id)}`);
}
