// Drives HTTP load with autocannon's programmatic API and samples the server's RSS meanwhile.
import autocannon from "autocannon";
import { readRss, sampleRss } from "./proc.mjs";

/**
 * A load spec:
 *   { base, method, path, headers?, body?, connections,
 *     requests?  (autocannon request list, e.g. with setupRequest/onResponse),
 *     amount?    (count-bounded: exactly this many requests, then stop) }
 * Time-bounded unless `amount` is set; a count-bounded run is still cut off after `maxSeconds`.
 */
function startOne(spec, durationSec, maxSeconds) {
  const opts = {
    url: spec.base + spec.path,
    method: spec.method ?? "GET",
    headers: spec.headers ?? {},
    connections: spec.connections,
    pipelining: 1,
    timeout: 20,
  };
  if (spec.body !== undefined) opts.body = typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body);
  // autocannon notices the end of a count-bounded run only at its next 1-s sample tick, so the
  // elapsed time is taken here: from the start to the last response.
  const probe = { samples: [], checked: 0, unexpected: 0, started: performance.now(), lastResponse: null };
  probe.iterations = 0;
  const requests = spec.requests ?? [{}];
  opts.requests = requests.map((r, i) => withProbe(r, spec, probe, i === requests.length - 1));
  if (spec.amount) opts.amount = spec.amount;
  else opts.duration = durationSec;

  let instance;
  const done = new Promise((resolve, reject) => {
    instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve({ result, probe })));
  });
  // Every load is bounded in time, even a count-bounded one.
  const guard = setTimeout(() => instance.stop(), maxSeconds * 1000);
  return done.finally(() => clearTimeout(guard));
}

/**
 * Keeps a few failing responses (status and body) for the report, and checks the first 2xx
 * bodies against `spec.check` so a scenario measures what it claims (e.g. a challenge, not tokens).
 * `spec.check` applies to the last request of the list (the one that completes an iteration);
 * `spec.iterations` counts iterations (2xx answers to that last request) instead of every 2xx.
 */
function withProbe(request, spec, probe, last) {
  const inner = request.onResponse;
  return {
    ...request,
    onResponse(status, body, context, headers) {
      probe.lastResponse = performance.now();
      if (status < 200 || status > 299) {
        if (probe.samples.length < 3) probe.samples.push({ status, body: String(body).slice(0, 400) });
      } else if (last) probe.iterations++;
      if (status >= 200 && status <= 299 && last && spec.check && probe.checked < 20) {
        probe.checked++;
        let good;
        try {
          good = Boolean(spec.check(JSON.parse(body)));
        } catch {
          good = false;
        }
        if (!good) {
          probe.unexpected++;
          if (probe.samples.length < 3)
            probe.samples.push({ status, body: String(body).slice(0, 400), note: "unexpected 2xx body" });
        }
      }
      if (inner) inner(status, body, context, headers);
    },
  };
}

/** Reduces an autocannon result to the figures we report. */
function summarize({ result, probe }, spec) {
  const end = probe.lastResponse ?? probe.started + (result.finish - result.start);
  const seconds = Math.max((end - probe.started) / 1000, 1e-3);
  // A scenario of several requests per iteration (options + verify) counts completed iterations.
  const ok = spec.iterations ? probe.iterations : result["2xx"];
  return {
    ok_rps: ok / seconds,
    requests_per_s: result.requests.total / seconds,
    iterations: Boolean(spec.iterations),
    requests: result.requests.total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    failures: result.non2xx + result.errors + result.timeouts,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    seconds,
    connections: spec.connections,
    count_bounded: Boolean(spec.amount),
    amount: spec.amount ?? null,
    note: spec.note ?? null,
    unexpected_bodies: probe.unexpected,
    failure_samples: probe.samples,
  };
}

/**
 * Runs one or more load specs at the same time against the server with `pid`.
 * Returns { results: [summary…], rss_idle, rss_max }.
 */
export async function runLoads(specs, { pid, durationSec, maxSeconds = Math.max(60, durationSec * 4) }) {
  const rssIdle = readRss(pid);
  const sampler = sampleRss(pid);
  let raw;
  let rssMax;
  try {
    raw = await Promise.all(specs.map((spec) => startOne(spec, durationSec, maxSeconds)));
  } finally {
    rssMax = sampler.stop();
  }
  return {
    results: raw.map((result, i) => summarize(result, specs[i])),
    rss_idle: rssIdle,
    rss_max: rssMax,
  };
}

/** Convenience for a single spec: the summary plus RSS figures. */
export async function runLoad(spec, options) {
  const { results, rss_idle, rss_max } = await runLoads([spec], options);
  return { ...results[0], rss_idle, rss_max };
}
