/*
 * A reverse proxy keeps a few connections to Tessera open and sends every request through them (nginx
 * `keepalive`, Traefik, Caddy), forward-auth checks included. The server must not end such a connection
 * after a number of requests: Node then closes it, or answers 503 to requests already sent on it.
 * Idle time (HTTP_KEEP_ALIVE_TIMEOUT), the request deadlines and MAX_CONNECTIONS_PER_IP bound what one
 * client holds instead (slow-clients.security.test.ts).
 */
import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { sqliteDialect } from "../support/dialects.js";
import { listenOnLoopback } from "../support/raw-http.js";

describe("keep-alive connections from a reverse proxy", () => {
  let t: TestApp;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    t = await appOn(sqliteDialect);
    t.app.server.on("connection", () => {
      connections += 1;
    });
    port = await listenOnLoopback(t.app);
  });
  afterAll(async () => t.close());

  it("serves 1,200 requests in a row on one connection", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const statuses = new Set<number>();
    try {
      for (let i = 0; i < 1200; i += 1) {
        statuses.add(
          await new Promise<number>((resolve, reject) => {
            const req = request({ port, host: "127.0.0.1", path: "/healthz", agent }, (res) => {
              res.resume();
              res.on("end", () => resolve(res.statusCode ?? 0));
            });
            req.on("error", reject);
            req.end();
          }),
        );
      }
    } finally {
      agent.destroy();
    }
    expect([...statuses]).toEqual([200]);
    expect(connections).toBe(1);
  }, 60_000);
});
