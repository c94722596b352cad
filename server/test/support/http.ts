import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { expect } from "vitest";

/** Requests through `app.inject`, and the checks every suite makes of their answers. */

export interface Json {
  [key: string]: unknown;
}

export interface SendOptions {
  method: "GET" | "POST" | "DELETE" | "PATCH" | "OPTIONS";
  url: string;
  /** Sent as `Authorization: Bearer …`. */
  token?: string;
  /** Sent as JSON, with its content type unless `headers` name another. */
  body?: unknown;
  /** Sent as it is (light-my-request's rules: a string or Buffer raw, an object as JSON). */
  payload?: InjectOptions["payload"];
  headers?: Record<string, string>;
  cookies?: Record<string, string>;
  remoteAddress?: string;
}

export interface Reply {
  status: number;
  /** The JSON body, or `{}` when the answer is empty or not JSON. */
  body: Json;
  text: string;
  headers: LightMyRequestResponse["headers"];
  raw: LightMyRequestResponse;
}

export async function send(app: FastifyInstance, options: SendOptions): Promise<Reply> {
  const headers: Record<string, string> = {
    ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    ...options.headers,
  };
  let payload = options.payload;
  if (payload === undefined && options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const raw = await app.inject({
    method: options.method,
    url: options.url,
    headers,
    ...(payload === undefined ? {} : { payload }),
    ...(options.cookies === undefined ? {} : { cookies: options.cookies }),
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
  let body: Json = {};
  if (raw.body !== "" && String(raw.headers["content-type"] ?? "").includes("json")) body = raw.json<Json>();
  return { status: raw.statusCode, body, text: raw.body, headers: raw.headers, raw };
}

/** The short form of `send`: a method, a URL, and maybe a token, a JSON body and headers. */
export async function call(
  app: FastifyInstance,
  method: "GET" | "POST" | "DELETE" | "PATCH",
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return send(app, {
    method,
    url,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.body === undefined ? {} : { payload: options.body as object }),
  });
}

export function str(value: unknown): string {
  expect(typeof value).toBe("string");
  return typeof value === "string" ? value : "";
}

export function errorCode(body: Json): string | undefined {
  const error = body["error"];
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}

/** The spec's one error shape, `{ error: { code, message } }`, with the expected status and code. */
export function expectError(res: { status: number; body: Json }, status: number, code: string): void {
  const context = JSON.stringify(res.body);
  expect(res.status, context).toBe(status);
  const error = res.body["error"] as Json | undefined;
  expect(error, context).toBeTypeOf("object");
  expect(error?.["code"], context).toBe(code);
  expect(typeof error?.["message"], context).toBe("string");
}

/** A 4xx in the error shape: the contract for any input the server refuses. */
export function expectClientError(res: { status: number; body: Json; text?: string }, context = ""): void {
  const detail = `${context} -> ${res.status} ${res.text ?? JSON.stringify(res.body)}`;
  expect(res.status, detail).toBeGreaterThanOrEqual(400);
  expect(res.status, detail).toBeLessThan(500);
  const error = res.body["error"] as Json | undefined;
  expect(typeof error?.["code"], detail).toBe("string");
  expect(typeof error?.["message"], detail).toBe("string");
}

/** The seconds of a 429's Retry-After, which it must carry. */
export function retryAfter(res: Reply): number {
  const header = res.headers["retry-after"];
  expect(header, "429 carries Retry-After").toBeDefined();
  return Number(header);
}
