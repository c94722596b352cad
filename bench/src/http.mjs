// A tiny JSON client for preparing data outside the timed runs.

/** Sends one request; returns { status, body (parsed JSON or text), headers }. */
export async function request(baseUrl, method, path, { json, headers = {}, timeoutMs = 30_000 } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeoutMs) };
  if (json !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  const res = await fetch(baseUrl + path, init);
  const text = await res.text();
  let body = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** Like request(), but throws with the status and body unless the status is `expect` (or any 2xx). */
export async function expectOk(baseUrl, method, path, options = {}, expect) {
  const res = await request(baseUrl, method, path, options);
  const ok = expect === undefined ? res.status >= 200 && res.status < 300 : res.status === expect;
  if (!ok) {
    const err = new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    err.status = res.status;
    err.body = res.body;
    throw err;
  }
  return res;
}

/** Maps `items` through async `fn` with at most `limit` in flight; keeps order. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The cookie pairs ("name=value") from a fetch Headers' Set-Cookie lines. */
export function cookiesFrom(headers) {
  const lines = typeof headers.getSetCookie === "function" ? headers.getSetCookie() : [];
  return lines.map((line) => line.split(";")[0]).filter((pair) => !/=$/.test(pair));
}
