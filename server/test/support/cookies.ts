import type { LightMyRequestResponse } from "fastify";

/** The Set-Cookie lines of an answer read as a browser would (value URL-decoded, attributes by lower-case name). */

export interface SetCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

export function setCookies(headers: LightMyRequestResponse["headers"]): SetCookie[] {
  const raw = headers["set-cookie"];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  return lines.map((line) => {
    const [pair = "", ...rest] = line.split(";").map((part) => part.trim());
    const separator = pair.indexOf("=");
    const attributes = new Map(
      rest.map((attr) => {
        const eq = attr.indexOf("=");
        return eq === -1 ? [attr.toLowerCase(), ""] : [attr.slice(0, eq).toLowerCase(), attr.slice(eq + 1)];
      }),
    );
    return { name: pair.slice(0, separator), value: decodeURIComponent(pair.slice(separator + 1)), attributes };
  });
}

/** The Set-Cookie of `name`; throws when the answer sets none. */
export function cookie(headers: LightMyRequestResponse["headers"], name: string): SetCookie {
  const found = setCookies(headers).find((c) => c.name === name);
  if (found === undefined) throw new Error(`no Set-Cookie for ${name}`);
  return found;
}
