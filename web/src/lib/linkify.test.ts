import { describe, expect, it } from "vitest";
import { linkify } from "./linkify";

describe("linkify", () => {
  it("turns URLs into links and keeps the text around them", () => {
    expect(linkify("Open http://127.0.0.1:8000/verify-email?token=abc-_1 to confirm.")).toEqual([
      { text: "Open " },
      {
        text: "http://127.0.0.1:8000/verify-email?token=abc-_1",
        href: "http://127.0.0.1:8000/verify-email?token=abc-_1",
      },
      { text: " to confirm." },
    ]);
  });

  it("leaves a trailing full stop out of the link", () => {
    expect(linkify("Go to https://example.test/a.")).toEqual([
      { text: "Go to " },
      { text: "https://example.test/a", href: "https://example.test/a" },
      { text: "." },
    ]);
  });

  it("does not link other schemes", () => {
    expect(linkify("javascript:alert(1) and otpauth://totp/x")).toEqual([
      { text: "javascript:alert(1) and otpauth://totp/x" },
    ]);
  });
});
