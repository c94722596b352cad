import { vi, type Mock } from "vitest";
import { configureClient } from "../api/client";

/** One recorded fetch call, decoded for assertions. */
export interface RecordedCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

export interface FetchMock {
  fn: Mock<typeof fetch>;
  calls: RecordedCall[];
  /** The only call made; fails the test when there were none or several. */
  single(): RecordedCall;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = body === undefined ? null : JSON.stringify(body);
  return new Response(status === 204 ? null : text, {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function errorResponse(
  status: number,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return jsonResponse(status, { error: { code, message: `server says ${code}`, ...extra } }, headers);
}

/** Replaces global fetch; each call gets the next response (the last one repeats). */
export function mockFetch(...responses: (Response | (() => Response) | Error)[]): FetchMock {
  const calls: RecordedCall[] = [];
  let index = 0;
  const fn = vi.fn<typeof fetch>(async (input, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const raw = init?.body;
    calls.push({
      method: init?.method ?? "GET",
      url: typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
      headers,
      body: typeof raw === "string" ? JSON.parse(raw) : undefined,
      credentials: init?.credentials,
    });
    const next = responses[Math.min(index, responses.length - 1)];
    index += 1;
    if (next === undefined) throw new Error("mockFetch: no response configured");
    if (next instanceof Error) throw next;
    return typeof next === "function" ? next() : next.clone();
  });
  vi.stubGlobal("fetch", fn);
  return {
    fn,
    calls,
    single() {
      if (calls.length !== 1) throw new Error(`expected one fetch call, got ${calls.length}`);
      const [call] = calls;
      if (call === undefined) throw new Error("unreachable");
      return call;
    },
  };
}

/** A browser-like `document.cookie` for the CSRF double-submit. */
export function stubCookies(cookie: string): void {
  vi.stubGlobal("document", { cookie });
}

/** Points the client at a fixed access token (or none). */
export function useAccessToken(token: string | null, refresh: () => Promise<boolean> = async () => false): void {
  configureClient({ getAccessToken: () => token, refreshAccessToken: refresh });
}

export const testCsrf = "csrf-token-123";
export const testAccessToken = "access-token-abc";

/** Browser-like setup for endpoint tests: a CSRF cookie and a signed-in client. */
export function signedInBrowser(): void {
  stubCookies(`tessera_csrf=${testCsrf}`);
  useAccessToken(testAccessToken);
}

/** The headers every UI request carries; `auth` says whether the Bearer token is expected. */
export function expectedHeaders(auth: boolean, withBody: boolean): Record<string, string | undefined> {
  return {
    accept: "application/json",
    "x-csrf-token": testCsrf,
    authorization: auth ? `Bearer ${testAccessToken}` : undefined,
    "content-type": withBody ? "application/json" : undefined,
  };
}
