// Small numeric helpers.
export function median(values) {
  const xs = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

export const max = (values) => {
  const xs = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  return xs.length ? Math.max(...xs) : null;
};

export const sum = (values) => values.reduce((a, v) => a + (typeof v === "number" ? v : 0), 0);

export const ratio = (a, b) => (typeof a === "number" && typeof b === "number" && b > 0 ? a / b : null);

/** Medians (and sums/maxima where those make more sense) over the rounds of one scenario. */
export function summarizeRounds(rounds) {
  if (rounds.length === 0) return null;
  return {
    ok_rps: median(rounds.map((r) => r.ok_rps)),
    p50_ms: median(rounds.map((r) => r.p50_ms)),
    p99_ms: median(rounds.map((r) => r.p99_ms)),
    failures: sum(rounds.map((r) => r.failures)),
    non2xx: sum(rounds.map((r) => r.non2xx)),
    unexpected_bodies: sum(rounds.map((r) => r.unexpected_bodies)),
    requests: sum(rounds.map((r) => r.requests)),
    rss_idle: median(rounds.map((r) => r.rss_idle)),
    rss_max: max(rounds.map((r) => r.rss_max)),
    count_bounded: rounds.some((r) => r.count_bounded),
    seconds: median(rounds.map((r) => r.seconds)),
    failure_samples: rounds.flatMap((r) => r.failure_samples ?? []).slice(0, 3),
  };
}
