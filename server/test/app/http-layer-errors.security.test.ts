/*
 * Attack: malformed HTTP as an error oracle and a crash probe. A client sends what Node's HTTP
 * parser itself refuses — a bad Content-Length, headers too large, broken chunked encoding, a bad
 * URL, garbage instead of a request line, an unknown Expect — to fingerprint the server from its
 * default error pages or to find one that crashes it. Every such answer must be in the SPEC's error
 * shape `{ error: { code, message } }` with a fitting status, and the connection closed. Raw bytes
 * on a real socket: `app.inject` never reaches Node's parser.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "../support/app.js";
import { listenOnLoopback, rawExchange, type RawReply } from "../support/raw-http.js";

function expectShape(reply: RawReply, status: number, code: string): void {
  const context = `${reply.status} ${reply.body}`;
  expect(reply.status, context).toBe(status);
  expect(reply.headers["content-type"], context).toMatch(/^application\/json/);
  expect(reply.json?.error?.code, context).toBe(code);
  expect(typeof reply.json?.error?.message, context).toBe("string");
}

describe("errors of the HTTP layer itself", () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await buildTestApp({ databaseUrl: "sqlite::memory:" });
    port = await listenOnLoopback(t.app);
  });
  afterAll(async () => t.close());

  it("answers a Content-Length that is not a number with 422 validation_failed and closes", async () => {
    const reply = await rawExchange(
      port,
      "POST /api/auth/login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ten\r\n\r\n{}",
    );
    expectShape(reply, 422, "validation_failed");
    expect(reply.json?.error?.message).toMatch(/Content-Length/);
    expect(reply.headers["connection"]).toBe("close");
  });

  it("answers both Content-Length and chunked encoding (request smuggling) with 422", async () => {
    const reply = await rawExchange(
      port,
      "POST /api/auth/login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    );
    expectShape(reply, 422, "validation_failed");
  });

  it("answers headers past the size limit with 431 headers_too_large", async () => {
    const reply = await rawExchange(port, `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expectShape(reply, 431, "headers_too_large");
  });

  it("answers a broken chunked body with 422 validation_failed", async () => {
    const reply = await rawExchange(
      port,
      "POST /api/auth/login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n" +
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    );
    expectShape(reply, 422, "validation_failed");
    expect(reply.json?.error?.message).toMatch(/chunked/);
  });

  it("answers a URL with broken percent-encoding with 422 validation_failed", async () => {
    const reply = await rawExchange(port, "GET /api/user/%E0%A4%A HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expectShape(reply, 422, "validation_failed");
  });

  it("answers garbage instead of a request line with 422 validation_failed", async () => {
    expectShape(await rawExchange(port, "HELLO THERE\r\n\r\n"), 422, "validation_failed");
    expectShape(await rawExchange(port, "GET /\x7f\x00 HTTP/1.1\r\nHost: a\r\n\r\n"), 422, "validation_failed");
  });

  it("answers an Expect other than 100-continue with 417 expectation_failed", async () => {
    const reply = await rawExchange(port, "GET /healthz HTTP/1.1\r\nHost: a\r\nExpect: to-be-served\r\n\r\n");
    expectShape(reply, 417, "expectation_failed");
  });

  it("still serves a well-formed request on a fresh connection after all of that", async () => {
    const reply = await rawExchange(port, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ status: "ok" });
  });
});
