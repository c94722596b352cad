/*
 * Attack: reconnaissance through /metrics. A stranger reads Prometheus metrics — request counts per
 * route and status, login failures, memory — to time an attack or watch its effect, from another
 * host or through a reverse proxy on the same machine, or by guessing a token. /metrics answers
 * only requests straight from loopback or carrying `Authorization: Bearer $METRICS_TOKEN`
 * (compared in constant time); everyone else gets the same 404 as a path that does not exist.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { expectError, send } from "../support/http.js";

const [sqlite] = testDialects();
if (sqlite === undefined) throw new Error("no dialect");
const metricsToken = "scrape-8c1f0e2d5b6a4c3e9f7d";

const metrics = (t: TestApp, remoteAddress: string, headers: Record<string, string> = {}): ReturnType<typeof send> =>
  send(t.app, { method: "GET", url: "/metrics", remoteAddress, headers });

describe("with METRICS_TOKEN set", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appOn(sqlite, { env: { METRICS_TOKEN: metricsToken, TRUST_PROXY: "loopback" } });
  });
  afterAll(async () => t.close());

  it("serves loopback directly, without the token", async () => {
    const res = await metrics(t, "127.0.0.1");
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^# TYPE tessera_http_requests_total counter$/m);
  });

  it("serves a scraper on another host that sends the token", async () => {
    const res = await metrics(t, "192.0.2.9", { authorization: `Bearer ${metricsToken}` });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^process_resident_memory_bytes /m);
  });

  it.each([
    ["no token", {}],
    ["a wrong token", { authorization: "Bearer scrape-8c1f0e2d5b6a4c3e9f7e" }],
    ["a prefix of the token", { authorization: `Bearer ${metricsToken.slice(0, -1)}` }],
    [
      "the token as Basic credentials",
      { authorization: `Basic ${Buffer.from(`x:${metricsToken}`).toString("base64")}` },
    ],
    ["an empty bearer", { authorization: "Bearer " }],
  ])("a stranger on another host with %s gets 404", async (_label, headers: Record<string, string>) => {
    const res = await metrics(t, "192.0.2.9", headers);
    expectError(res, 404, "not_found");
    expect(res.text).not.toContain("tessera_");
  });

  it("a stranger going through a proxy on this machine gets 404, whatever it claims to forward for", async () => {
    const proxied: Record<string, string>[] = [
      { "x-forwarded-for": "127.0.0.1" },
      { forwarded: "for=127.0.0.1" },
      { "x-real-ip": "::1" },
    ];
    for (const headers of proxied) {
      expectError(await metrics(t, "127.0.0.1", headers), 404, "not_found");
    }
    // The token still opens it through the proxy.
    const res = await metrics(t, "127.0.0.1", {
      "x-forwarded-for": "192.0.2.9",
      authorization: `Bearer ${metricsToken}`,
    });
    expect(res.status).toBe(200);
  });
});

describe("without METRICS_TOKEN", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appOn(sqlite);
  });
  afterAll(async () => t.close());

  it("serves loopback only; no bearer value opens it for another host", async () => {
    expect((await metrics(t, "::1")).status).toBe(200);
    for (const authorization of ["Bearer ", "Bearer null", "Bearer undefined"]) {
      expectError(await metrics(t, "192.0.2.9", { authorization }), 404, "not_found");
    }
  });
});
