import { Counter, Histogram, type Registry } from "prom-client";

/** Upper bounds of the latency histogram's buckets, in seconds. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

/**
 * One route's request counts and latencies as plain numbers. prom-client's labelled `inc` and `observe`
 * validate and hash their labels on every call (about 0.7 µs for the pair, a few percent of a `/me`
 * request); here a request costs a map update and a few additions, and the figures take prom-client's
 * shape only when /metrics is read.
 */
export class RouteSeries {
  /** Requests answered, by status code. */
  readonly byStatus = new Map<number, number>();
  /** Observations per bucket, not cumulative; the last one is above the highest bound (+Inf). */
  readonly buckets = new Float64Array(latencyBuckets.length + 1);
  sum = 0;
  count = 0;

  constructor(
    readonly method: string,
    readonly route: string,
  ) {}

  /** One answer with its status; `seconds` from arrival to answer, null when the arrival is unknown. */
  record(status: number, seconds: number | null): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    if (seconds === null || !Number.isFinite(seconds)) return;
    let bucket = 0;
    while (bucket < latencyBuckets.length && seconds > latencyBuckets[bucket]!) bucket++;
    this.buckets[bucket] = this.buckets[bucket]! + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

type CounterMetric = Awaited<ReturnType<Counter<"method" | "route" | "status">["get"]>>;
type HistogramMetric = Awaited<ReturnType<Histogram<"method" | "route" | "le">["get"]>>;

/** `tessera_http_requests_total`, read from the routes' series. */
class RequestsCounter extends Counter<"method" | "route" | "status"> {
  constructor(
    registry: Registry,
    private readonly series: () => Iterable<RouteSeries>,
  ) {
    super({
      name: "tessera_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    });
  }

  override async get(): Promise<CounterMetric> {
    const values: CounterMetric["values"] = [];
    for (const { method, route, byStatus } of this.series()) {
      for (const [status, value] of byStatus) values.push({ labels: { method, route, status: String(status) }, value });
    }
    // Name, help, type as prom-client gives them; its own series stay empty.
    return { ...(await super.get()), values };
  }
}

const latencyName = "tessera_http_request_duration_seconds";
const latencyHelp = "HTTP request latency";

/** `tessera_http_request_duration_seconds`, read from the routes' series. */
class LatencyHistogram extends Histogram<"method" | "route" | "le"> {
  constructor(
    registry: Registry,
    private readonly series: () => Iterable<RouteSeries>,
  ) {
    super({
      name: latencyName,
      help: latencyHelp,
      labelNames: ["method", "route"],
      buckets: [...latencyBuckets],
      registers: [registry],
    });
  }

  override async get(): Promise<HistogramMetric> {
    const name = latencyName;
    const values: HistogramMetric["values"] = [];
    for (const { method, route, buckets, sum, count } of this.series()) {
      let below = 0;
      latencyBuckets.forEach((bound, i) => {
        below += buckets[i]!;
        values.push({ labels: { le: bound, method, route }, value: below, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: "+Inf", method, route }, value: count, metricName: `${name}_bucket` });
      values.push({ labels: { method, route }, value: sum, metricName: `${name}_sum` });
      values.push({ labels: { method, route }, value: count, metricName: `${name}_count` });
    }
    return {
      name,
      help: latencyHelp,
      // prom-client's typings declare MetricType as a numeric enum; at run time a metric's type is this string.
      type: "histogram" as unknown as HistogramMetric["type"],
      aggregator: "sum",
      collect: () => undefined,
      values,
    };
  }

  /** What the registry reads for the text format, in preference to `get` (which prom-client bases on it). */
  getForPromString(): Promise<HistogramMetric> {
    return this.get();
  }
}

/**
 * The per-route series, registered on `registry` as the two HTTP metrics. `seriesOf` returns the series of
 * a method and route, created on first use; the routes are the app's own patterns, so their number is bounded.
 */
export function createRouteMetrics(registry: Registry): { seriesOf(method: string, route: string): RouteSeries } {
  // By route pattern, then method: the route's string is the app's own (its hash kept), so a request
  // builds no key string.
  const byRoute = new Map<string, Map<string, RouteSeries>>();
  function* all(): Iterable<RouteSeries> {
    for (const byMethod of byRoute.values()) yield* byMethod.values();
  }
  new RequestsCounter(registry, all);
  new LatencyHistogram(registry, all);
  return {
    seriesOf(method, route) {
      let byMethod = byRoute.get(route);
      if (byMethod === undefined) {
        byMethod = new Map();
        byRoute.set(route, byMethod);
      }
      let found = byMethod.get(method);
      if (found === undefined) {
        found = new RouteSeries(method, route);
        byMethod.set(method, found);
      }
      return found;
    },
  };
}
