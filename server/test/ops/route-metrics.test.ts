import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createRouteMetrics, latencyBuckets } from "../../src/plugins/route-metrics.js";

/** The exposition lines of one metric family, in order. */
function linesOf(text: string, family: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(family) || line.includes(` ${family}`));
}

// Latencies on, between, below and above the bucket bounds, on two routes, with a few statuses.
const answers: [method: string, route: string, status: number, seconds: number | null][] = [
  ["GET", "/api/user/me", 200, 0.0004],
  ["GET", "/api/user/me", 200, 0.001],
  ["GET", "/api/user/me", 401, 0.0011],
  ["POST", "/api/auth/login", 200, 0.25],
  ["POST", "/api/auth/login", 401, 0.3],
  ["POST", "/api/auth/login", 429, 3.7],
  ["GET", "/api/user/me", 200, 0.049],
  ["GET", "/api/user/me", 200, null],
  ["POST", "/api/auth/login", 200, 2.5],
];

describe("HTTP route metrics", () => {
  it("prints what prom-client's own Counter and Histogram print for the same answers", async () => {
    const ours = new Registry();
    const routes = createRouteMetrics(ours);

    const reference = new Registry();
    const requests = new Counter({
      name: "tessera_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["method", "route", "status"],
      registers: [reference],
    });
    const duration = new Histogram({
      name: "tessera_http_request_duration_seconds",
      help: "HTTP request latency",
      labelNames: ["method", "route"],
      buckets: [...latencyBuckets],
      registers: [reference],
    });

    for (const [method, route, status, seconds] of answers) {
      routes.seriesOf(method, route).record(status, seconds);
      requests.labels(method, route, String(status)).inc();
      if (seconds !== null) duration.labels(method, route).observe(seconds);
    }

    const [mine, theirs] = [await ours.metrics(), await reference.metrics()];
    for (const family of ["tessera_http_requests_total", "tessera_http_request_duration_seconds"]) {
      const expected = linesOf(theirs, family);
      expect(expected.length).toBeGreaterThan(5);
      expect(linesOf(mine, family)).toEqual(expected);
    }
    expect(mine).toMatch(/^tessera_http_request_duration_seconds_count\{method="GET",route="\/api\/user\/me"\} 4$/m);
    expect(mine).toMatch(/^tessera_http_requests_total\{method="GET",route="\/api\/user\/me",status="200"\} 4$/m);
  });

  it("keeps counting the same series for a route, and a new one for each status", () => {
    const routes = createRouteMetrics(new Registry());
    const me = routes.seriesOf("GET", "/api/user/me");
    expect(routes.seriesOf("GET", "/api/user/me")).toBe(me);
    me.record(200, 0.002);
    me.record(200, Number.NaN);
    me.record(304, 0.002);
    expect([...me.byStatus]).toEqual([
      [200, 2],
      [304, 1],
    ]);
    expect(me.count).toBe(2);
    expect(routes.seriesOf("HEAD", "/api/user/me")).not.toBe(me);
  });
});
