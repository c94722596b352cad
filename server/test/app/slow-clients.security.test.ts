/*
 * Attack: hold the server with slow or many connections (slowloris). One client opens far more
 * connections than it needs, sends its headers a byte at a time, trickles a body, or opens
 * connections and sends nothing, hoping to use up what the server can hold so that nobody else is
 * answered. Headers must arrive within HTTP_HEADERS_TIMEOUT, the whole request within
 * HTTP_REQUEST_TIMEOUT (else 408 in the error shape and the connection closed), idle keep-alive
 * connections close, and one address holds at most MAX_CONNECTIONS_PER_IP connections. Real
 * sockets on a real port; a second loopback address (127.0.0.2) plays the other client.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { buildTestApp, type TestApp } from "../support/app.js";
import { firstResponse, listenOnLoopback, openConnection, type RawConnection } from "../support/raw-http.js";

const maxConnectionsPerIp = 8;

async function healthFrom(port: number, localAddress: string): Promise<number> {
  const connection = await openConnection(port, localAddress);
  connection.socket.write("GET /healthz HTTP/1.1\r\nHost: tessera.test\r\nConnection: close\r\n\r\n");
  return (await connection.closed).status;
}

describe("slow and greedy clients", () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await buildTestApp({
      databaseUrl: "sqlite::memory:",
      env: {
        HTTP_HEADERS_TIMEOUT: "1",
        HTTP_REQUEST_TIMEOUT: "2",
        HTTP_KEEP_ALIVE_TIMEOUT: "1",
        MAX_CONNECTIONS_PER_IP: String(maxConnectionsPerIp),
      },
    });
    port = await listenOnLoopback(t.app);
  });
  afterAll(async () => t.close());

  it("keeps answering /healthz to another address while one client holds 100 slow connections", async () => {
    const slow: RawConnection[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        const connection = await openConnection(port);
        connection.socket.write("GET /healthz HTTP/1.1\r\n"); // and never the rest
        slow.push(connection);
      }
      expect(await healthFrom(port, "127.0.0.2")).toBe(200);
      // The client got its share and no more: everything past the cap was refused at once.
      const refused = (await Promise.all(slow.slice(maxConnectionsPerIp).map((c) => c.closed))).map((r) => r.status);
      expect(refused).toEqual(Array(100 - maxConnectionsPerIp).fill(429));
    } finally {
      for (const connection of slow) connection.socket.destroy();
    }
  });

  it("refuses a connection past the per-address cap with 429, while another address still connects", async () => {
    const held: RawConnection[] = [];
    try {
      // An address of its own: the connections of the test before may still be closing.
      for (let i = 0; i < maxConnectionsPerIp; i++) held.push(await openConnection(port, "127.0.0.10"));
      const extra = await openConnection(port, "127.0.0.10");
      const refused = await extra.closed;
      expect(refused.status).toBe(429);
      expect(refused.json?.error?.code).toBe("rate_limited");
      expect(refused.headers["retry-after"]).toBe("1");
      expect(await healthFrom(port, "127.0.0.11")).toBe(200);
      // The held connections are still served.
      held[0]?.socket.write("GET /healthz HTTP/1.1\r\nHost: tessera.test\r\n\r\n");
      expect((await firstResponse(held[0] as RawConnection)).status).toBe(200);
    } finally {
      for (const connection of held) connection.socket.destroy();
    }
    // Once they close, the address may connect again.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await healthFrom(port, "127.0.0.10")).toBe(200);
  });

  it("answers a slowloris sending headers byte by byte with 408 and closes it after the header timeout", async () => {
    const connection = await openConnection(port, "127.0.0.3");
    const request = "GET /healthz HTTP/1.1\r\nHost: tessera.test\r\n" + "X-Padding: a\r\n".repeat(50);
    let sent = 0;
    const drip = setInterval(() => {
      if (connection.socket.destroyed || sent >= request.length) return;
      connection.socket.write(request[sent++] ?? "");
    }, 20);
    try {
      const reply = await connection.closed;
      expect(reply.status).toBe(408);
      expect(reply.json?.error?.code).toBe("request_timeout");
      // 1 s header timeout, checked every second: closed well before the headers could have finished.
      expect(reply.closedAfterMs).toBeGreaterThanOrEqual(900);
      expect(reply.closedAfterMs).toBeLessThan(3500);
      expect(sent).toBeLessThan(request.length);
    } finally {
      clearInterval(drip);
    }
  });

  it("closes a connection that sends nothing at all after the header timeout", async () => {
    const reply = await (await openConnection(port, "127.0.0.4")).closed;
    expect(reply.status).toBe(408);
    expect(reply.json?.error?.code).toBe("request_timeout");
    expect(reply.closedAfterMs).toBeLessThan(3500);
  });

  it("answers a body that trickles in past the request timeout with 408 and closes the connection", async () => {
    const connection = await openConnection(port, "127.0.0.5");
    connection.socket.write(
      "POST /api/auth/login HTTP/1.1\r\nHost: tessera.test\r\nContent-Type: application/json\r\n" +
        "Content-Length: 500\r\n\r\n{",
    );
    const drip = setInterval(() => {
      if (!connection.socket.destroyed) connection.socket.write(" ");
    }, 100);
    try {
      const reply = await connection.closed;
      expect(reply.status).toBe(408);
      expect(reply.json?.error?.code).toBe("request_timeout");
      expect(reply.closedAfterMs).toBeGreaterThanOrEqual(1900);
      expect(reply.closedAfterMs).toBeLessThan(5000);
    } finally {
      clearInterval(drip);
    }
  });

  it("closes an idle keep-alive connection after the keep-alive timeout", async () => {
    const connection = await openConnection(port, "127.0.0.6");
    connection.socket.write("GET /healthz HTTP/1.1\r\nHost: tessera.test\r\n\r\n");
    expect((await firstResponse(connection)).headers["connection"]).toBe("keep-alive");
    const reply = await connection.closed;
    expect(reply.status).toBe(200); // the one answer it got, then nothing but the close
    expect(reply.closedAfterMs).toBeLessThan(4000);
  });
});

describe("the HTTP limits' defaults", () => {
  it("are 10 s for headers, 30 s for the whole request, 5 s keep-alive and 64 connections per address", () => {
    expect(loadConfig({}).http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxConnectionsPerIp: 64,
    });
  });

  it("refuses a header timeout longer than the request timeout, naming the variable", () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT: "40", HTTP_REQUEST_TIMEOUT: "30" })).toThrow(
      /^HTTP_HEADERS_TIMEOUT: /,
    );
  });
});
