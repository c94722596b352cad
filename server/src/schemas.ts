import { Type } from "@sinclair/typebox";

// Schemas every module's routes share. A module's own schemas live beside its routes
// (`*.schemas.ts` in the module); app.ts registers the ones referenced by $id.

/** The one error shape (SPEC §2); referenced by every route's response schema. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    }),
  },
  { $id: "ErrorResponse" },
);

export const errorResponses = {
  400: Type.Ref("ErrorResponse"),
  401: Type.Ref("ErrorResponse"),
  403: Type.Ref("ErrorResponse"),
  404: Type.Ref("ErrorResponse"),
  409: Type.Ref("ErrorResponse"),
  413: Type.Ref("ErrorResponse"),
  415: Type.Ref("ErrorResponse"),
  422: Type.Ref("ErrorResponse"),
  429: Type.Ref("ErrorResponse"),
};

/**
 * For routes with no 4xx of their own: the HTTP layer may still answer any request with one (408
 * request_timeout, 431 headers_too_large, 422 for a malformed request), in the same error shape.
 */
export const httpLayerErrors = { "4xx": Type.Ref("ErrorResponse") };

// Nullable fields as one JSON Schema type list rather than anyOf: OpenAPI 3.1 documents them the same,
// and the response serializer writes them directly instead of validating the value against each branch.
export const NullableString = Type.Unsafe<string | null>({ type: ["string", "null"] });
export const NullableTime = Type.Unsafe<string | null>({ type: ["string", "null"], format: "date-time" });

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
