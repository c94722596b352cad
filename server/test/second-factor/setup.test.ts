import * as OTPAuth from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, loginToken, register, secondFactorLogin, totpCode, uniqueName } from "../support/accounts.js";
import { call, expectError, str } from "../support/http.js";
import { decodeQRPng, pngFromDataUrl } from "../support/qr.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/* Enrolment: the QR code must be readable by an independent decoder and an independent TOTP
 * implementation must produce codes the server accepts; a pending secret expires, is replaced by a
 * newer setup, and is never shown again once two-factor is active (SPEC §2 "Two-factor"). */

async function beginSetup(
  t: TestApp,
  username: string,
): Promise<{ accessToken: string; secret: string; uri: string; qrPng: string; qrSvg: string }> {
  const { accessToken } = await register(t.app, username);
  const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken });
  expect(setup.status, JSON.stringify(setup.body)).toBe(200);
  expect(setup.body["qr_base64"]).toBe(setup.body["qr_png"]);
  return {
    accessToken,
    secret: str(setup.body["secret"]),
    uri: str(setup.body["otpauth_url"]),
    qrPng: str(setup.body["qr_png"]),
    qrSvg: str(setup.body["qr_svg"]),
  };
}

for (const dialect of testDialects()) {
  describe(`TOTP enrolment and QR codes [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("builds the exact otpauth URI of the spec", async () => {
      const name = uniqueName("alice");
      const { secret, uri } = await beginSetup(t, name);
      expect(uri).toBe(
        `otpauth://totp/Tessera:${name}?secret=${secret}&issuer=Tessera&algorithm=SHA1&digits=6&period=30`,
      );
    });

    it("encodes the otpauth URI in a qr_png an independent decoder reads; otpauth's codes are accepted", async () => {
      const name = uniqueName("qr");
      const { accessToken, uri, qrPng } = await beginSetup(t, name);
      const decoded = decodeQRPng(pngFromDataUrl(qrPng));
      expect(decoded).toBe(uri);

      const parsed = OTPAuth.URI.parse(decoded);
      expect(parsed).toBeInstanceOf(OTPAuth.TOTP);
      if (!(parsed instanceof OTPAuth.TOTP)) return;
      expect({
        issuer: parsed.issuer,
        label: parsed.label,
        algorithm: parsed.algorithm,
        digits: parsed.digits,
        period: parsed.period,
      }).toEqual({ issuer: "Tessera", label: name, algorithm: "SHA1", digits: 6, period: 30 });
      const confirm = await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
        token: accessToken,
        body: { code: parsed.generate({ timestamp: t.clock.now() }) },
      });
      expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
      t.clock.advance(30);
      const res = await secondFactorLogin(t.app, {
        login_token: await loginToken(t.app, name),
        code: parsed.generate({ timestamp: t.clock.now() }),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });

    it("serves the pending QR code as a PNG that decodes to the otpauth URI, and as SVG", async () => {
      const { accessToken, uri } = await beginSetup(t, uniqueName("qr-get"));
      const png = await t.app.inject({
        method: "GET",
        url: "/api/auth/2fa/qrcode.png",
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(png.statusCode).toBe(200);
      expect(png.headers["content-type"]).toBe("image/png");
      expect(png.headers["cache-control"]).toBe("no-store");
      expect(decodeQRPng(png.rawPayload)).toBe(uri);

      const svg = await t.app.inject({
        method: "GET",
        url: "/api/auth/2fa/qrcode.svg",
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(svg.statusCode).toBe(200);
      expect(String(svg.headers["content-type"])).toMatch(/^image\/svg\+xml/);
      expect(svg.body).toContain("<svg");
    });

    it("refuses the QR endpoints without a session", async () => {
      for (const format of ["png", "svg"]) {
        expectError(await call(t.app, "GET", `/api/auth/2fa/qrcode.${format}`), 401, "unauthorized");
      }
      expectError(await call(t.app, "POST", "/api/auth/2fa/setup"), 401, "unauthorized");
    });

    it("expires a pending setup after 10 minutes", async () => {
      const { accessToken, secret } = await beginSetup(t, uniqueName("expire"));
      t.clock.advance(60 * 10);
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
          token: accessToken,
          body: { code: totpCode(secret, t.clock) },
        }),
        409,
        "mfa_setup_expired",
      );
      expect((await call(t.app, "GET", "/api/auth/2fa/qrcode.png", { token: accessToken })).status).toBe(404);
      const me = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(me.body["mfa_enabled"]).toBe(false);
    });

    it("still confirms a pending setup just before the 10 minutes are over", async () => {
      const { accessToken, secret } = await beginSetup(t, uniqueName("in-time"));
      t.clock.advance(60 * 10 - 1);
      expect(
        (
          await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
            token: accessToken,
            body: { code: totpCode(secret, t.clock) },
          })
        ).status,
      ).toBe(200);
    });

    it("replaces the pending secret when setup is started again", async () => {
      const { accessToken, secret: first } = await beginSetup(t, uniqueName("again"));
      const second = await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken });
      const secret = str(second.body["secret"]);
      expect(secret).not.toBe(first);
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
          token: accessToken,
          body: { code: totpCode(first, t.clock) },
        }),
        401,
        "invalid_otp",
      );
      const png = await t.app.inject({
        method: "GET",
        url: "/api/auth/2fa/qrcode.png",
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(decodeQRPng(png.rawPayload)).toContain(`secret=${secret}`);
      expect(
        (
          await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
            token: accessToken,
            body: { code: totpCode(secret, t.clock) },
          })
        ).status,
      ).toBe(200);
    });

    it("answers verify-setup with a wrong code as invalid_otp and leaves two-factor off", async () => {
      const { accessToken, secret } = await beginSetup(t, uniqueName("wrong"));
      const code = totpCode(secret, t.clock, 5); // a real code, but 2.5 minutes away
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/verify-setup", { token: accessToken, body: { code } }),
        401,
        "invalid_otp",
      );
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).body["mfa_enabled"]).toBe(false);
    });

    it("refuses a new setup and the QR code once two-factor is on, never showing the active secret again", async () => {
      const name = uniqueName("active");
      const { secret, accessToken } = await enrolledUser(t.app, t.clock, name);
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token: accessToken });
      expectError(setup, 409, "mfa_already_enabled");
      expect(JSON.stringify(setup.body)).not.toContain(secret);
      for (const format of ["png", "svg"]) {
        const res = await t.app.inject({
          method: "GET",
          url: `/api/auth/2fa/qrcode.${format}`,
          headers: { authorization: `Bearer ${accessToken}` },
        });
        expect(res.statusCode).toBe(409);
        expect(res.json()).toMatchObject({ error: { code: "mfa_already_enabled" } });
        expect(res.body).not.toContain(secret);
      }
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
          token: accessToken,
          body: { code: totpCode(secret, t.clock) },
        }),
        409,
        "mfa_already_enabled",
      );
      // The active secret keeps working: nothing above replaced it.
      expect(
        (
          await secondFactorLogin(t.app, {
            login_token: await loginToken(t.app, name),
            code: totpCode(secret, t.clock),
          })
        ).status,
      ).toBe(200);
    });

    it("refuses verify-setup while no setup is pending", async () => {
      const { accessToken } = await register(t.app, uniqueName("none"));
      expectError(
        await call(t.app, "POST", "/api/auth/2fa/verify-setup", { token: accessToken, body: { code: "123456" } }),
        409,
        "mfa_setup_expired",
      );
    });
  });
}
