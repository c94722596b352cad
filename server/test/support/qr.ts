import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import { expect } from "vitest";

// jsqr is CommonJS with `export default` types: under NodeNext the default import is module.exports,
// whose `default` property is the decoder function (both at runtime and in its typings).
const jsQR = jsQRModule.default;

/** Decodes a PNG with independent libraries (pngjs + jsQR), not with the server's own QR code. */
export function decodeQRPng(png: Buffer): string {
  const image = PNG.sync.read(png);
  const result = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  expect(result, "the PNG holds a readable QR code").not.toBeNull();
  return result?.data ?? "";
}

export function pngFromDataUrl(dataUrl: string): Buffer {
  const prefix = "data:image/png;base64,";
  expect(dataUrl.startsWith(prefix)).toBe(true);
  return Buffer.from(dataUrl.slice(prefix.length), "base64");
}
