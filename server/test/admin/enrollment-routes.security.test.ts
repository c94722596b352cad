import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { login, register, uniqueName } from "../support/accounts.js";
import { adminSession, setPolicy } from "../support/admin.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, errorCode, type Json, send, str } from "../support/http.js";

/*
 * Attack: a session held in enrolment (the two-factor policy covers its user, who has no second factor yet)
 * reaching anything but enrolment. Every route /openapi.json documents as taking a bearer token is called with
 * such a token and a body its schema accepts (so validation cannot answer first); all must answer 403
 * enrollment_required except GET /api/user/me, two-factor setup and verify-setup, passkey registration, refresh
 * and logout (SPEC §2 "Admin and policy").
 */

const allowed = new Set([
  "GET /api/user/me",
  "POST /api/auth/2fa/setup",
  "POST /api/auth/2fa/verify-setup",
  "POST /api/auth/passkeys/register/options",
  "POST /api/auth/passkeys/register/verify",
  "POST /api/auth/logout",
]);

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  minimum?: number;
}

/** A value the schema accepts: required properties only, the shortest strings that fit. */
function sample(schema: Schema): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum !== undefined) return schema.enum[0];
  const branch = schema.anyOf?.[0] ?? schema.oneOf?.[0] ?? schema.allOf?.[0];
  if (branch !== undefined) return sample(branch);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === "object") {
    const value: Json = {};
    for (const name of schema.required ?? []) value[name] = sample(schema.properties?.[name] ?? {});
    return value;
  }
  if (type === "array") return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items ?? {}));
  if (type === "integer" || type === "number") return schema.minimum ?? 1;
  if (type === "boolean") return true;
  if (schema.format === "email") return "someone@example.org";
  if (schema.format === "date-time") return "2026-01-01T00:00:00Z";
  if (schema.pattern !== undefined) {
    const candidates = ["a", "1", "123456", "abcd-efgh", "off"];
    const fit = candidates.find((c) => new RegExp(schema.pattern ?? "").test(c));
    if (fit !== undefined) return fit;
  }
  return "x"
    .repeat(Math.max(schema.minLength ?? 1, 1))
    .padEnd(Math.max(schema.minLength ?? 8, 8), "x")
    .slice(0, schema.maxLength ?? 8);
}

interface Operation {
  security?: Record<string, unknown>[];
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

for (const dialect of testDialects()) {
  describe(`a session held in enrolment [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("is refused 403 enrollment_required by every bearer route but the enrolment ones", async () => {
      const admin = await adminSession(t);
      await setPolicy(t, admin.token, "all");
      const name = uniqueName("held");
      await register(t.app, name);
      const token = str((await login(t.app, name)).body["access_token"]);
      const document = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json<{
        paths: Record<string, Record<string, Operation>>;
      }>();
      const refused: string[] = [];
      const passed: string[] = [];
      const other: string[] = [];
      for (const [path, operations] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          if (!(operation.security ?? []).some((s) => "bearer" in s)) continue;
          const route = `${method.toUpperCase()} ${path}`;
          if (route === "POST /api/auth/logout") continue; // last: it ends the session
          const query = (operation.parameters ?? [])
            .filter((p) => p.in === "query" && p.required === true)
            .map((p) => `${p.name}=${encodeURIComponent(String(sample(p.schema)))}`)
            .join("&");
          const url = path.replace(/\{[^}]+\}/g, "x") + (query === "" ? "" : `?${query}`);
          const bodySchema = operation.requestBody?.content["application/json"]?.schema;
          const res = await send(t.app, {
            method: method.toUpperCase() as "GET",
            url,
            token,
            ...(bodySchema === undefined ? {} : { body: sample(bodySchema) }),
          });
          if (res.status === 403 && errorCode(res.body) === "enrollment_required") refused.push(route);
          else if (allowed.has(route)) passed.push(route);
          else other.push(`${route} -> ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
      expect(other).toEqual([]);
      expect(passed).toEqual(
        expect.arrayContaining(["GET /api/user/me", "POST /api/auth/2fa/setup", "POST /api/auth/2fa/verify-setup"]),
      );
      expect(refused.length).toBeGreaterThan(20);
      for (const route of [
        "GET /api/admin/users",
        "DELETE /api/user",
        "GET /api/auth/sessions",
        "POST /api/user/password",
      ])
        expect(refused).toContain(route);
      const out = await call(t.app, "POST", "/api/auth/logout", { token });
      expect(out.status).toBe(204);
      await setPolicy(t, admin.token, "off");
    });
  });
}
