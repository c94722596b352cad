/*
 * Attack: random input as a denial-of-service probe. A seeded fuzz loop throws 200 random JSON-ish
 * bodies (wrong types, broken JSON, hostile strings, foreign content types) at every POST route and
 * DELETE /api/user: every refusal must be a 4xx in the `{ error: { code, message } }` shape, never a
 * 5xx, and the server must still serve the accounts afterwards.
 */
import { describe, expect, it } from "vitest";
import { login, register, strongPassword } from "../support/accounts.js";
import type { TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { fuzzer, useAppWithAlice } from "../support/hostile-input.js";
import { call, send, str } from "../support/http.js";

for (const dialect of testDialects()) {
  describe(`random bodies never get a 5xx [${dialect.name}]`, () => {
    let t: TestApp;
    useAppWithAlice(dialect, (app) => {
      t = app;
    });

    const post = (url: string, body: unknown, extra: { token?: string } = {}): ReturnType<typeof send> =>
      send(t.app, { method: "POST", url, body, ...extra });

    it("survives 200 random bodies on every POST route (and DELETE /api/user) without a 5xx", async () => {
      const spec = t.app.swagger() as {
        paths: Record<
          string,
          Record<
            string,
            { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }
          >
        >;
      };
      const routes: { method: "POST" | "DELETE"; url: string; fields: string[] }[] = [];
      for (const [path, operations] of Object.entries(spec.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          if (method !== "post" && !(method === "delete" && path === "/api/user")) continue;
          const fields = Object.keys(operation.requestBody?.content?.["application/json"]?.schema?.properties ?? {});
          routes.push({
            method: method === "post" ? "POST" : "DELETE",
            url: path.replace("{id}", "some-user-id"),
            fields,
          });
        }
      }
      expect(routes.map((r) => r.url)).toEqual(
        expect.arrayContaining([
          "/api/auth/register",
          "/api/auth/login",
          "/api/auth/2fa/login",
          "/api/auth/token/refresh",
          "/api/auth/logout",
          "/api/user/password",
        ]),
      );
      await register(t.app, "fuzzed");
      let fuzzToken = str((await login(t.app, "fuzzed")).body["access_token"]);
      const failures: string[] = [];
      for (const [index, route] of routes.entries()) {
        const next = fuzzer(0x7e55e7a + index, route.fields);
        for (let i = 0; i < 200; i++) {
          const { payload, contentType } = next();
          const withToken = i % 2 === 0;
          const res = await send(t.app, {
            method: route.method,
            url: route.url,
            payload,
            headers: { "content-type": contentType },
            ...(withToken ? { token: fuzzToken } : {}),
          });
          if (res.status >= 500 || (res.body["error"] === undefined && res.status >= 400))
            failures.push(
              `${route.method} ${route.url} #${i} -> ${res.status} ${res.text.slice(0, 120)} :: ` +
                payload.slice(0, 200),
            );
          if (withToken && res.status === 401 && route.url === "/api/auth/logout") {
            fuzzToken = str((await login(t.app, "fuzzed")).body["access_token"]);
          }
          if (res.status === 204 && route.url === "/api/auth/logout")
            fuzzToken = str((await login(t.app, "fuzzed")).body["access_token"]);
        }
      }
      expect(failures, failures.slice(0, 10).join("\n")).toEqual([]);
      // Still serving, and the accounts are intact.
      expect((await post("/api/auth/login", { username: "alice", password: strongPassword })).status).toBe(200);
      expect((await call(t.app, "GET", "/healthz")).status).toBe(200);
    });
  });
}
