import { verifyAuthenticationResponse } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { verifyAssertion, type AssertionExpectations } from "../../src/modules/second-factor/passkey/assertion.js";
import type { AssertionResponse } from "../../src/modules/second-factor/passkey/passkey.schemas.js";
import { encodeCBOR } from "../support/authenticator.js";
import {
  assertion,
  b64,
  BE,
  BS,
  challenge,
  ED,
  keyOf,
  origins,
  rpId,
  UP,
  UV,
  type Forgery,
  type Key,
} from "../support/assertions.js";

/*
 * Tessera checks passkey assertions itself (src/modules/second-factor/passkey/assertion.ts: the library's checks,
 * node's signature verification with a cached key). Here every assertion, valid or forged, goes to both that and
 * @simplewebauthn/server's verifyAuthenticationResponse, and the two must agree: what the library refuses Tessera
 * refuses. Keys of each algorithm registration offers (ES256, EdDSA, RS256) and one it hands to the library (ES384).
 */

type Verdict = { accepted: true; counter: number; userVerified: boolean; backedUp: boolean } | { accepted: false };

async function tessera(response: AssertionResponse, key: Key, requireUV: boolean): Promise<Verdict> {
  const expected: AssertionExpectations = {
    challenge,
    origins,
    rpId,
    requireUserVerification: requireUV,
    publicKey: b64(key.cose),
  };
  try {
    return { accepted: true, ...(await verifyAssertion(response, expected)) };
  } catch {
    return { accepted: false };
  }
}

async function library(response: AssertionResponse, key: Key, requireUV: boolean): Promise<Verdict> {
  try {
    const result = await verifyAuthenticationResponse({
      response: response as never,
      expectedChallenge: challenge,
      expectedOrigin: origins,
      expectedRPID: rpId,
      credential: { id: response.id, publicKey: new Uint8Array(key.cose), counter: 0 },
      requireUserVerification: requireUV,
    });
    if (!result.verified) return { accepted: false };
    const info = result.authenticationInfo;
    return {
      accepted: true,
      counter: info.newCounter,
      userVerified: info.userVerified,
      backedUp: info.credentialBackedUp,
    };
  } catch {
    return { accepted: false };
  }
}

const flip = (signature: Buffer): string => {
  const copy = Buffer.from(signature);
  copy.writeUInt8(copy.readUInt8(copy.length - 5) ^ 0x01, copy.length - 5);
  return b64(copy);
};

/** Each case: what is forged, whether user verification is required, and whether it must pass. */
const cases: { name: string; forgery?: (key: Key) => Forgery; requireUV?: boolean; accepted: boolean }[] = [
  { name: "a valid assertion", accepted: true },
  {
    name: "a valid assertion from the second allowed origin",
    forgery: () => ({ clientData: { origin: origins[1] } }),
    accepted: true,
  },
  { name: "a counter the authenticator keeps", forgery: () => ({ counter: 7 }), accepted: true },
  { name: "no user verification where none is required", forgery: () => ({ flags: UP }), accepted: true },
  {
    name: "a synced passkey (backup eligible and backed up)",
    forgery: () => ({ flags: UP | UV | BE | BS }),
    accepted: true,
  },
  {
    name: "extensions in authenticatorData",
    forgery: () => ({ flags: UP | UV | ED, extensions: encodeCBOR(new Map([["credProtect", 2]])) }),
    accepted: true,
  },
  {
    name: "a cross-origin ceremony without a top origin",
    forgery: () => ({ clientData: { crossOrigin: true } }),
    accepted: true,
  },
  {
    name: "token binding present",
    forgery: () => ({ clientData: { tokenBinding: { status: "present" } } }),
    accepted: true,
  },
  {
    name: "attack: no user verification where it is required",
    forgery: () => ({ flags: UP }),
    requireUV: true,
    accepted: false,
  },
  { name: "attack: user not present", forgery: () => ({ flags: UV }), accepted: false },
  {
    name: "attack: another origin",
    forgery: () => ({ clientData: { origin: "https://evil.example" } }),
    accepted: false,
  },
  {
    name: "attack: an origin of the same host over http",
    forgery: () => ({ clientData: { origin: "http://tessera.test" } }),
    accepted: false,
  },
  {
    name: "attack: a registration's client data",
    forgery: () => ({ clientData: { type: "webauthn.create" } }),
    accepted: false,
  },
  {
    name: "attack: another challenge",
    forgery: () => ({ clientData: { challenge: b64(Buffer.from("another")) } }),
    accepted: false,
  },
  { name: "attack: another RP ID's hash", forgery: () => ({ rpId: "evil.example" }), accepted: false },
  { name: "attack: a signature with one bit changed", forgery: () => ({ signature: flip }), accepted: false },
  {
    name: "attack: signed by another key",
    forgery: (key) => ({ signer: keyOf(key.name).privateKey }),
    accepted: false,
  },
  { name: "attack: an empty signature", forgery: () => ({ signature: () => "" }), accepted: false },
  {
    name: "attack: a signature that is not base64url",
    forgery: () => ({ signature: (s) => `${b64(s)}!` }),
    accepted: false,
  },
  {
    name: "attack: authenticatorData cut short",
    forgery: () => ({ authData: (a) => a.subarray(0, 36) }),
    accepted: false,
  },
  { name: "attack: rawId differs from id", forgery: () => ({ rawId: b64(Buffer.from("other")) }), accepted: false },
  { name: "attack: not a public-key credential", forgery: () => ({ type: "password" }), accepted: false },
  {
    name: "attack: framed by another site",
    forgery: () => ({ clientData: { crossOrigin: true, topOrigin: "https://evil.example" } }),
    accepted: false,
  },
  {
    name: "attack: a top origin without cross-origin",
    forgery: () => ({ clientData: { topOrigin: "https://tessera.test" } }),
    accepted: false,
  },
  {
    name: "attack: a token binding status that is not a string",
    forgery: () => ({ clientData: { tokenBinding: { status: ["present"] } } }),
    accepted: false,
  },
  {
    name: "client data with a byte order mark",
    forgery: () => ({
      clientDataRaw: Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(JSON.stringify({ type: "webauthn.get", challenge, origin: origins[0], crossOrigin: false })),
      ]),
    }),
    accepted: true,
  },
  {
    name: "attack: a bogus token binding",
    forgery: () => ({ clientData: { tokenBinding: { status: "bogus" } } }),
    accepted: false,
  },
  {
    name: "attack: a single-device credential claiming a backup",
    forgery: () => ({ flags: UP | UV | BS }),
    accepted: false,
  },
  {
    name: "attack: client data that is not JSON",
    forgery: () => ({ clientDataRaw: Buffer.from("{not json") }),
    accepted: false,
  },
];

describe("passkey assertions: Tessera's verification agrees with @simplewebauthn/server's", () => {
  for (const name of ["ES256", "EdDSA", "RS256", "ES384", "RS256-e3"]) {
    const key = keyOf(name);
    for (const c of cases) {
      it(`${name}: ${c.name} is ${c.accepted ? "accepted" : "refused"} by both`, async () => {
        const response = assertion(key, c.forgery?.(key));
        const ours = await tessera(response, key, c.requireUV ?? false);
        const theirs = await library(response, key, c.requireUV ?? false);
        expect(ours).toEqual(theirs);
        expect(ours.accepted).toBe(c.accepted);
      });
    }
  }

  it("attack: authenticatorData altered after it was signed is refused by both", async () => {
    const key = keyOf("ES256");
    const response = assertion(key);
    const authData = Buffer.from(response.response.authenticatorData, "base64url");
    authData[33 + 3] = 9; // the counter, raised after the signature
    const altered = { ...response, response: { ...response.response, authenticatorData: b64(authData) } };
    expect(await tessera(altered, key, false)).toEqual({ accepted: false });
    expect(await library(altered, key, false)).toEqual({ accepted: false });
  });

  it("a key that changes under the same credential is verified with the new key (no stale cache entry)", async () => {
    const first = keyOf("ES256");
    const second = keyOf("ES256");
    expect((await tessera(assertion(first), first, false)).accepted).toBe(true);
    expect((await tessera(assertion(second), first, false)).accepted).toBe(false);
    expect((await tessera(assertion(second), second, false)).accepted).toBe(true);
  });

  // Where Tessera is stricter than the library: strict DER (OpenSSL's rule) and unpadded base64url only.
  it("attack: an ES256 signature in loose DER (a byte after the sequence) is refused", async () => {
    const key = keyOf("ES256");
    const response = assertion(key, { signature: (signature) => b64(Buffer.concat([signature, Buffer.from([0])])) });
    expect(await tessera(response, key, false)).toEqual({ accepted: false });
  });

  it("attack: a padded signature is refused for every key", async () => {
    for (const name of ["ES256", "EdDSA", "RS256"]) {
      const key = keyOf(name);
      const response = assertion(key, { signature: (signature) => `${b64(signature)}==` });
      expect(await tessera(response, key, false)).toEqual({ accepted: false });
      expect((await tessera(assertion(key), key, false)).accepted).toBe(true);
    }
  });
});
