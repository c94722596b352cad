/*
 * Attack: passwords that collapse into one another. JSON's `"\ud800"` parses to an unpaired
 * surrogate, and bytes that are not UTF-8 decode to U+FFFD; once stored or hashed, every such
 * password becomes the same string of U+FFFD, so an attacker who guesses "some invalid text here"
 * matches an owner whose password was silently rewritten. Any string field holding invalid Unicode
 * must be refused with 422 validation_failed, never changed; valid text (emoji, U+FFFD itself) is
 * taken as it is.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strongPassword } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { expectError, send, type Reply } from "../support/http.js";

for (const dialect of testDialects()) {
  describe(`invalid Unicode in any string field [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    /** A raw JSON body, so the escapes reach the server exactly as written. */
    const postRaw = (url: string, json: string | Buffer): Promise<Reply> =>
      send(t.app, { method: "POST", url, payload: json, headers: { "content-type": "application/json" } });

    it("refuses a password with an unpaired surrogate instead of storing it as U+FFFD", async () => {
      // The owner's password really contains U+FFFD (valid text): it is accepted as it is.
      const owner = await postRaw(
        "/api/auth/register",
        '{"username":"replacement","password":"correct horse \\ufffd battery"}',
      );
      expect(owner.status, owner.text).toBe(201);
      // The attacker's lone surrogate would have become that same U+FFFD: refused, not a login.
      for (const escape of ["\\ud800", "\\udfff", "\\udc00\\ud800"]) {
        const guess = await postRaw(
          "/api/auth/login",
          `{"username":"replacement","password":"correct horse ${escape} battery"}`,
        );
        expectError(guess, 422, "validation_failed");
        expect(guess.text).toContain("password");
      }
      const fine = await postRaw(
        "/api/auth/login",
        '{"username":"replacement","password":"correct horse \\ufffd battery"}',
      );
      expect(fine.status).toBe(200);
    });

    it("refuses registering with an unpaired surrogate in the password, username or email", async () => {
      const bodies = [
        '{"username":"lone1","password":"correct horse battery \\ud83d"}',
        '{"username":"lone\\ud800two","password":"correct horse battery staple"}',
        '{"username":"lone3","password":"correct horse battery staple","email":"a\\udc00@example.org"}',
      ];
      for (const body of bodies) expectError(await postRaw("/api/auth/register", body), 422, "validation_failed");
      const login = await postRaw("/api/auth/login", '{"username":"lone1","password":"correct horse battery \\ud83d"}');
      expectError(login, 422, "validation_failed");
    });

    it("accepts a password with a surrogate pair (an emoji written as escapes)", async () => {
      const res = await postRaw(
        "/api/auth/register",
        '{"username":"emoji","password":"correct horse \\ud83d\\ude00 battery"}',
      );
      expect(res.status, res.text).toBe(201);
      const login = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username: "emoji", password: "correct horse 😀 battery" },
      });
      expect(login.status).toBe(200);
    });

    it("refuses a JSON body whose bytes are not UTF-8, before decoding turns them into U+FFFD", async () => {
      const prefix = Buffer.from('{"username":"bytes","password":"correct horse ');
      const suffix = Buffer.from(' battery"}');
      for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
        const res = await postRaw("/api/auth/register", Buffer.concat([prefix, Buffer.from(bad), suffix]));
        expectError(res, 422, "validation_failed");
        expect(res.text).toContain("UTF-8");
      }
      expect((await postRaw("/api/auth/login", Buffer.concat([prefix, Buffer.from([0xff]), suffix]))).status).toBe(422);
    });

    it("refuses HTTP Basic credentials that are not UTF-8", async () => {
      const credentials = Buffer.concat([
        Buffer.from("replacement:correct horse "),
        Buffer.from([0xef, 0xbf]),
        Buffer.from(" battery"),
      ]);
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        headers: { authorization: `Basic ${credentials.toString("base64")}` },
      });
      expectError(res, 422, "validation_failed");
      const valid = Buffer.from(`replacement:correct horse \ufffd battery`).toString("base64");
      const ok = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        headers: { authorization: `Basic ${valid}` },
      });
      expect(ok.status).toBe(200);
    });

    it("refuses unpaired surrogates in codes, tokens and link tokens too", async () => {
      for (const [url, body] of [
        ["/api/auth/2fa/login", '{"login_token":"x\\ud800","code":"123456"}'],
        ["/api/auth/2fa/login", '{"login_token":"abc","code":"12345\\udbff"}'],
        ["/api/auth/email/verify", '{"token":"\\udfffabc"}'],
        ["/api/auth/password/reset", `{"token":"abc","new_password":"${strongPassword}\\ud800"}`],
      ] as const) {
        expectError(await postRaw(url, body), 422, "validation_failed");
      }
    });
  });
}
