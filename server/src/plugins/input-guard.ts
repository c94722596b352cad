import { isUtf8 } from "node:buffer";
import type { FastifyInstance } from "fastify";
import { AppError } from "../errors.js";

/** A UTF-16 surrogate without its partner: not a character, and no encoding can carry it. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be taken as it is, or null when it can. */
function problemOf(value: string): string | null {
  if (value.includes("\u0000")) return "must not contain NUL characters";
  if (loneSurrogate.test(value)) return "must be valid Unicode (no unpaired surrogates)";
  return null;
}

/** The first string field (its path) that cannot be taken as it is, and why; null when all can. */
function badField(value: unknown, path: string, depth = 0): { field: string; problem: string } | null {
  if (typeof value === "string") {
    const problem = problemOf(value);
    return problem === null ? null : { field: path, problem };
  }
  if (depth > 8 || typeof value !== "object" || value === null) return null;
  for (const [key, inner] of Object.entries(value)) {
    const found = badField(inner, path === "" ? key : `${path}.${key}`, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/**
 * Bytes that must be text but are not UTF-8, refused before they are decoded: decoding would turn them
 * into U+FFFD silently. Null when they are fine.
 */
export function utf8Problem(bytes: Uint8Array, part: string): AppError | null {
  if (isUtf8(bytes)) return null;
  return new AppError("validation_failed", `The request ${part} is not valid UTF-8.`, undefined, [
    { field: part, message: "must be valid UTF-8" },
  ]);
}

/**
 * Text Tessera cannot store or compare faithfully is refused (422 validation_failed) in one place, never
 * changed: NUL (PostgreSQL text cannot hold it, which would be a 500), unpaired surrogates (JSON's
 * `"\ud800"` parses to one; storing or hashing it would turn it into U+FFFD, so a password would
 * silently become another), and a JSON body that is not UTF-8. The check is a preHandler, so it also
 * sees bodies a route builds in preValidation (HTTP Basic login).
 */
export function installInputGuard(app: FastifyInstance): void {
  const parseJSON = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    // parseAs "buffer" hands a Buffer; the types allow a string too.
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    const problem = utf8Problem(bytes, "body");
    if (problem !== null) done(problem, undefined);
    else parseJSON(request, bytes.toString("utf8"), done);
  });

  app.addHook("preHandler", (request, _reply, done) => {
    for (const [part, value] of [
      ["body", request.body],
      ["params", request.params],
      ["query", request.query],
    ] as const) {
      const found = badField(value, "");
      if (found === null) continue;
      const name = found.field === "" ? part : found.field;
      done(
        new AppError("validation_failed", `The request ${part} is not valid: ${name} ${found.problem}.`, undefined, [
          { field: name, message: found.problem },
        ]),
      );
      return;
    }
    done();
  });
}
