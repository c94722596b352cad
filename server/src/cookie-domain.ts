import { isIP } from "node:net";

/**
 * COOKIE_DOMAIN, lower-cased and without a leading dot: a DNS name that is PUBLIC_URL's host or one of its
 * parent domains (a browser drops a cookie whose Domain does not cover the host that set it), and never a
 * bare top-level name. Problems are pushed; null when unset or bad.
 */
export function cookieDomainOf(raw: string | null, publicUrl: string, problems: string[]): string | null {
  if (raw === null) return null;
  const domain = raw.trim().toLowerCase().replace(/^\./, "");
  const label = "(?!-)[a-z0-9-]{1,63}(?<!-)";
  if (!new RegExp(`^${label}(\\.${label})*$`).test(domain) || domain.length > 253 || isIP(domain) !== 0) {
    problems.push(`COOKIE_DOMAIN: must be a domain name such as example.com, got "${raw}"`);
    return null;
  }
  const host = URL.canParse(publicUrl) ? new URL(publicUrl).hostname.toLowerCase() : "";
  if (host !== domain && !host.endsWith(`.${domain}`)) {
    problems.push(`COOKIE_DOMAIN: must be the host of PUBLIC_URL (${host}) or a domain above it, got "${raw}"`);
    return null;
  }
  if (!domain.includes(".") && host !== domain) {
    problems.push(`COOKIE_DOMAIN: a top-level name would share the cookie with every site under it, got "${raw}"`);
    return null;
  }
  return domain;
}
