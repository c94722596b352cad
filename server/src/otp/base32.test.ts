import { randomBytes } from "node:crypto";
import { describe, it, expect } from "vitest";
import { decodeBase32, encodeBase32 } from "./base32.js";

// RFC 4648 §10 test vectors; encodeBase32 omits the '=' padding.
const rfc4648Vectors = [
  { input: "", padded: "" },
  { input: "f", padded: "MY======" },
  { input: "fo", padded: "MZXQ====" },
  { input: "foo", padded: "MZXW6===" },
  { input: "foob", padded: "MZXW6YQ=" },
  { input: "fooba", padded: "MZXW6YTB" },
  { input: "foobar", padded: "MZXW6YTBOI======" },
];

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("encodeBase32", () => {
  it.each(rfc4648Vectors)("encodes $input as $padded without padding", ({ input, padded }) => {
    expect(encodeBase32(bytesOf(input))).toBe(padded.replace(/=+$/, ""));
  });

  it("encodes the RFC 6238 SHA-1 seed as the familiar authenticator secret", () => {
    expect(encodeBase32(bytesOf("12345678901234567890"))).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  });
});

describe("decodeBase32", () => {
  it.each(rfc4648Vectors)("decodes $padded back to $input", ({ input, padded }) => {
    expect(decodeBase32(padded)).toEqual(bytesOf(input));
  });

  it.each(rfc4648Vectors)("decodes $padded without its padding back to $input", ({ input, padded }) => {
    expect(decodeBase32(padded.replace(/=+$/, ""))).toEqual(bytesOf(input));
  });

  it.each([
    { description: "lower case", text: "mzxw6ytboi" },
    { description: "mixed case", text: "MzXw6YtBoI" },
    { description: "groups separated by spaces", text: "MZXW 6YTB OI" },
    { description: "spaces and padding", text: " mzxw 6ytb oi====== " },
  ])("accepts $description", ({ text }) => {
    expect(decodeBase32(text)).toEqual(bytesOf("foobar"));
  });

  it.each([
    { description: "a digit outside the alphabet (1)", text: "MZXW1YTB" },
    { description: "a digit outside the alphabet (0)", text: "MZXW0YTB" },
    { description: "a hyphen", text: "MZXW-YTB" },
    { description: "a tab", text: "MZXW\t6YTB" },
    { description: "a newline", text: "MZXW6YTB\n" },
    { description: "the long s, which upper-cases to S", text: "MZXW6YTſ" },
    { description: "the sharp s, which upper-cases to SS", text: "MZXW6Yß" },
    { description: "fullwidth letters", text: "ＭＺＸＷ６ＹＴＢ" },
  ])("throws a TypeError on $description", ({ text }) => {
    expect(() => decodeBase32(text)).toThrow(TypeError);
  });

  it.each(["M", "MZX", "MZXW6Y", "MZXW6YTBO"])("throws a TypeError on the impossible length of %s", (text) => {
    expect(() => decodeBase32(text)).toThrow(TypeError);
  });
});

describe("base32 round trip", () => {
  it.each([0, 1, 2, 3, 4, 5, 10, 20, 32, 64, 257])("round-trips %i random bytes", (length) => {
    const bytes = new Uint8Array(randomBytes(length));
    const encoded = encodeBase32(bytes);
    expect(encoded).toMatch(/^[A-Z2-7]*$/);
    expect(encoded).toHaveLength(Math.ceil((length * 8) / 5));
    expect(decodeBase32(encoded)).toEqual(bytes);
    expect(decodeBase32(encoded.toLowerCase())).toEqual(bytes);
  });

  it("round-trips every single byte value", () => {
    for (let value = 0; value < 256; value++) {
      const bytes = Uint8Array.of(value, 255 - value);
      expect(decodeBase32(encodeBase32(bytes))).toEqual(bytes);
    }
  });
});
