import type { FastifyInstance } from "fastify";
import { AppError } from "../errors.js";

/** The path of the first string holding a NUL character (U+0000), or null. */
function fieldWithNul(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === "string") return value.includes("\u0000") ? path : null;
  if (depth > 8 || typeof value !== "object" || value === null) return null;
  for (const [key, inner] of Object.entries(value)) {
    const found = fieldWithNul(inner, path === "" ? key : `${path}.${key}`, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/**
 * PostgreSQL text cannot hold NUL (U+0000) and fails the whole query, which would be a 500. No field of
 * Tessera's means anything with one, so input carrying it is refused as invalid (422) before any query.
 * A preHandler, so it also sees bodies that a route builds in preValidation (HTTP Basic login).
 */
export function installInputGuard(app: FastifyInstance): void {
  app.addHook("preHandler", (request, _reply, done) => {
    for (const [part, value] of [
      ["body", request.body],
      ["params", request.params],
      ["query", request.query],
    ] as const) {
      const field = fieldWithNul(value, "");
      if (field === null) continue;
      const name = field === "" ? part : field;
      done(
        new AppError(
          "validation_failed",
          `The request ${part} is not valid: ${name} must not contain NUL characters.`,
          undefined,
          [{ field: name, message: "must not contain NUL characters" }],
        ),
      );
      return;
    }
    done();
  });
}
