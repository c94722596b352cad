/**
 * Where the login screen may send a browser back to after signing in (SPEC: "only to hosts under
 * COOKIE_DOMAIN: no open redirect"): an absolute http(s) URL on PUBLIC_URL's host or on a host under
 * COOKIE_DOMAIN (ports ignored), https when PUBLIC_URL is, with no user name or password in it. Answers
 * the URL as the WHATWG parser serializes it, which is what the browser will then follow; null otherwise.
 */
export interface ReturnUrlScope {
  publicUrl: string;
  cookieDomain: string | null;
}

export function allowedReturnUrl(raw: string | undefined, scope: ReturnUrlScope): URL | null {
  // Tabs, newlines and other controls are stripped by URL parsers in ways browsers and servers disagree on.
  if (raw === undefined || raw === "" || raw.length > 4096 || hasControlOrBackslash(raw)) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const base = new URL(scope.publicUrl);
  if (url.protocol !== "https:" && (url.protocol !== "http:" || base.protocol === "https:")) return null;
  if (url.username !== "" || url.password !== "") return null;
  return hostInScope(url.hostname, scope, base.hostname) ? url : null;
}

function hostInScope(hostname: string, scope: ReturnUrlScope, publicHost: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === publicHost.toLowerCase()) return true;
  const domain = scope.cookieDomain;
  return domain !== null && (host === domain || host.endsWith(`.${domain}`));
}

function hasControlOrBackslash(raw: string): boolean {
  for (let i = 0; i < raw.length; i += 1) {
    const code = raw.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}
