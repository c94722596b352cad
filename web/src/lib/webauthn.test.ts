import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as SimpleWebAuthn from "@simplewebauthn/browser";

const browser = vi.hoisted(() => ({
  supported: true,
  failure: null as Error | null,
}));

vi.mock("@simplewebauthn/browser", async (importOriginal) => {
  const actual = await importOriginal<typeof SimpleWebAuthn>();
  const ceremony = async (): Promise<never> => {
    throw browser.failure ?? new Error("no failure set");
  };
  return {
    ...actual,
    browserSupportsWebAuthn: () => browser.supported,
    startRegistration: ceremony,
    startAuthentication: ceremony,
  };
});

const { WebAuthnError } = await import("@simplewebauthn/browser");
const { createPasskey, usePasskey } = await import("./webauthn");

const domError = (name: string): Error => Object.assign(new Error(name), { name });
const options = { challenge: "abc", rpId: "tessera.test" };

describe("passkey ceremonies that produce nothing are worded errors", () => {
  beforeEach(() => {
    browser.supported = true;
  });

  it("a cancel or a timeout (NotAllowedError) says so", async () => {
    browser.failure = domError("NotAllowedError");
    await expect(usePasskey(options)).rejects.toMatchObject({
      code: "passkey_cancelled",
      message: "The passkey request was cancelled or timed out. Try again when you are ready.",
    });
  });

  it("an authenticator that already holds a passkey for the account says so", async () => {
    browser.failure = new WebAuthnError({
      message: "registered",
      code: "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED",
      cause: domError("InvalidStateError"),
      name: "InvalidStateError",
    });
    await expect(
      createPasskey({
        challenge: "abc",
        rp: { name: "Tessera" },
        user: { id: "u", name: "a", displayName: "a" },
        pubKeyCredParams: [],
      }),
    ).rejects.toMatchObject({ code: "passkey_exists" });
  });

  it("a browser without WebAuthn is told before anything starts", async () => {
    browser.supported = false;
    await expect(usePasskey(options)).rejects.toMatchObject({ code: "passkey_unsupported" });
  });

  it("anything else is a general failure, not a crash", async () => {
    browser.failure = new TypeError("weird");
    await expect(usePasskey(options)).rejects.toMatchObject({ code: "passkey_failed" });
  });
});
