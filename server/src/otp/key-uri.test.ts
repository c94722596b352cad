import * as OTPAuth from "otpauth";
import { describe, it, expect } from "vitest";
import { decodeBase32, encodeBase32 } from "./base32.js";
import { createTOTPKeyURI } from "./key-uri.js";
import { defaultTOTPParams } from "./totp.js";
import type { TOTPParams } from "./totp.js";

const secret = new TextEncoder().encode("12345678901234567890");
const secretBase32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

describe("createTOTPKeyURI", () => {
  it("builds the exact Key Uri Format string for Tessera and alice", () => {
    const uri = createTOTPKeyURI({ issuer: "Tessera", accountName: "alice", secret, params: defaultTOTPParams });
    expect(uri).toBe(
      "otpauth://totp/Tessera:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" +
        "&issuer=Tessera&algorithm=SHA1&digits=6&period=30",
    );
  });

  it("writes non-default parameters in the same order", () => {
    const params: TOTPParams = { algorithm: "SHA512", digits: 8, periodInSeconds: 60, windowSteps: 1 };
    expect(createTOTPKeyURI({ issuer: "Tessera", accountName: "alice", secret, params })).toBe(
      "otpauth://totp/Tessera:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" +
        "&issuer=Tessera&algorithm=SHA512&digits=8&period=60",
    );
  });

  it.each([
    {
      description: "spaces as %20, never '+'",
      issuer: "Tessera Auth",
      accountName: "alice smith",
      label: "Tessera%20Auth:alice%20smith",
      issuerParam: "Tessera%20Auth",
    },
    {
      description: "unicode as UTF-8 percent-encoding",
      issuer: "Tésséra",
      accountName: "zoë@exämple.org",
      label: "T%C3%A9ss%C3%A9ra:zo%C3%AB%40ex%C3%A4mple.org",
      issuerParam: "T%C3%A9ss%C3%A9ra",
    },
    {
      description: "reserved characters such as & = ? # + /",
      issuer: "A&B=C",
      accountName: "a+b/c?d#e",
      label: "A%26B%3DC:a%2Bb%2Fc%3Fd%23e",
      issuerParam: "A%26B%3DC",
    },
  ])("encodes $description", ({ issuer, accountName, label, issuerParam }) => {
    const uri = createTOTPKeyURI({ issuer, accountName, secret, params: defaultTOTPParams });
    expect(uri).toBe(
      `otpauth://totp/${label}?secret=${secretBase32}&issuer=${issuerParam}&algorithm=SHA1&digits=6&period=30`,
    );
    expect(uri).not.toContain("+");
  });

  it.each([1, 2, 3, 4, 10, 21])("writes a %i-byte secret in base32 without padding", (length) => {
    const shortSecret = secret.slice(0, length);
    const options = { issuer: "Tessera", accountName: "alice", secret: shortSecret, params: defaultTOTPParams };
    const encoded = new URL(createTOTPKeyURI(options)).searchParams.get("secret") ?? "";
    expect(encoded).toMatch(/^[A-Z2-7]+$/);
    expect(decodeBase32(encoded)).toEqual(shortSecret);
  });

  it.each([
    { issuer: "Tess:era", accountName: "alice" },
    { issuer: "Tessera", accountName: "alice:admin" },
  ])("throws a TypeError when $issuer or $accountName contains a colon", ({ issuer, accountName }) => {
    expect(() => createTOTPKeyURI({ issuer, accountName, secret, params: defaultTOTPParams })).toThrow(TypeError);
  });

  const issuer = "Tessera Auth";
  const accountName = "zoë smith@example.org";
  const params: TOTPParams = { algorithm: "SHA256", digits: 8, periodInSeconds: 60, windowSteps: 1 };
  const uri = createTOTPKeyURI({ issuer, accountName, secret, params });

  it("parses back with new URL()", () => {
    const parsed = new URL(uri);
    expect(parsed.protocol).toBe("otpauth:");
    expect(parsed.host).toBe("totp");
    expect(decodeURIComponent(parsed.pathname)).toBe(`/${issuer}:${accountName}`);
    expect([...parsed.searchParams.keys()]).toEqual(["secret", "issuer", "algorithm", "digits", "period"]);
    expect(parsed.searchParams.get("secret")).toBe(encodeBase32(secret));
    expect(parsed.searchParams.get("issuer")).toBe(issuer);
    expect(parsed.searchParams.get("algorithm")).toBe("SHA256");
    expect(parsed.searchParams.get("digits")).toBe("8");
    expect(parsed.searchParams.get("period")).toBe("60");
  });

  it("parses back with otpauth's URI.parse", () => {
    const parsed = OTPAuth.URI.parse(uri);
    expect(parsed).toBeInstanceOf(OTPAuth.TOTP);
    if (!(parsed instanceof OTPAuth.TOTP)) return;
    expect(parsed.issuer).toBe(issuer);
    expect(parsed.label).toBe(accountName);
    expect(parsed.secret.base32).toBe(encodeBase32(secret));
    expect(parsed.algorithm).toBe("SHA256");
    expect(parsed.digits).toBe(8);
    expect(parsed.period).toBe(60);
  });
});
