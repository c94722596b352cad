import { ApiError, toApiError } from "./errors";

/**
 * The one fetch wrapper: JSON in and out, same-origin cookies, the CSRF double-submit header
 * (the server sets the readable `tessera_csrf` cookie beside its httpOnly refresh cookie), the
 * in-memory access token as a Bearer header, and error mapping to ApiError.
 */

export const csrfCookieName = "tessera_csrf";

export interface ClientHooks {
  /** The current access token, or null when signed out. */
  getAccessToken(): string | null;
  /** Called once when an authenticated call gets 401 `unauthorized`; resolves true when a new token is ready. */
  refreshAccessToken(): Promise<boolean>;
  /**
   * Called when an authenticated call gets 401 `reauth_required` (a sensitive action after the sign-in grew old):
   * asks the person to prove it is them and resolves true once new tokens are in place, false when they decline.
   */
  reauthenticate?(): Promise<boolean>;
  /** Called when a call gets 403 `enrollment_required`: the two-factor policy now holds this session. */
  enrollmentRequired?(): void;
}

let hooks: ClientHooks = { getAccessToken: () => null, refreshAccessToken: async () => false };

export function configureClient(next: ClientHooks): void {
  hooks = next;
}

export interface RequestOptions {
  /** Send the Bearer token (default true). */
  auth?: boolean;
}

/** Reads a cookie visible to scripts; null outside a browser or when absent. */
export function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

export function hasSessionCookie(): boolean {
  return readCookie(csrfCookieName) !== null;
}

function buildInit(method: string, body: unknown, useAuth: boolean): RequestInit {
  const headers: Record<string, string> = { Accept: "application/json" };
  const csrf = readCookie(csrfCookieName);
  if (csrf !== null) headers["X-CSRF-Token"] = csrf;
  const token = useAuth ? hooks.getAccessToken() : null;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return init;
}

async function readJSON(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The error code of a failed response, read from a copy so the response itself can still be read. */
async function errorCodeOf(response: Response): Promise<string> {
  return toApiError(response.status, await readJSON(response.clone()), null).code;
}

async function send(method: string, url: string, body: unknown, useAuth: boolean): Promise<Response> {
  try {
    return await fetch(url, buildInit(method, body, useAuth));
  } catch {
    throw new ApiError(0, "network_error", "fetch failed");
  }
}

/** Sends one API request and returns its parsed JSON body (null for 202/204 without a body). */
export async function request<T>(
  method: string,
  url: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const useAuth = options.auth ?? true;
  let response = await send(method, url, body, useAuth);
  if (response.status === 401 && useAuth && hooks.getAccessToken() !== null) {
    // An access token can expire while a tab sleeps: refresh once and replay the call.
    if ((await errorCodeOf(response)) === "unauthorized" && (await hooks.refreshAccessToken())) {
      response = await send(method, url, body, useAuth);
    }
    // A sensitive action after the sign-in grew old (SPEC "Re-authentication"): the person proves it is them in
    // place, then the same call goes again with what they had typed, as if nothing had happened.
    if (response.status === 401 && (await errorCodeOf(response)) === "reauth_required") {
      if ((await hooks.reauthenticate?.()) === true) response = await send(method, url, body, useAuth);
    }
  }
  const parsed = await readJSON(response);
  if (response.status === 403 && toApiError(403, parsed, null).code === "enrollment_required")
    hooks.enrollmentRequired?.();
  if (!response.ok) throw toApiError(response.status, parsed, response.headers.get("Retry-After"));
  // The server's response schemas are the contract for T; nothing more can be checked here.
  return parsed as T;
}

/** A GET whose answer is a file (the audit CSV): saved by the browser under `filename`. */
export async function download(url: string, filename: string): Promise<void> {
  let response = await send("GET", url, undefined, true);
  if (response.status === 401 && (await errorCodeOf(response)) === "reauth_required") {
    if ((await hooks.reauthenticate?.()) === true) response = await send("GET", url, undefined, true);
  }
  if (!response.ok) throw toApiError(response.status, await readJSON(response), response.headers.get("Retry-After"));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export const api = {
  get: <T>(url: string, options?: RequestOptions): Promise<T> => request<T>("GET", url, undefined, options),
  /** POST always sends a JSON body (`{}` when empty): the server rejects an empty JSON body. */
  post: <T>(url: string, body: object = {}, options?: RequestOptions): Promise<T> =>
    request<T>("POST", url, body, options),
  put: <T>(url: string, body: object, options?: RequestOptions): Promise<T> => request<T>("PUT", url, body, options),
  patch: <T>(url: string, body: object, options?: RequestOptions): Promise<T> =>
    request<T>("PATCH", url, body, options),
  delete: <T>(url: string, body?: object, options?: RequestOptions): Promise<T> =>
    request<T>("DELETE", url, body, options),
};
