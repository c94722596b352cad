import { describe, expect, it } from "vitest";
import { describeEvent, describeUserAgent, formatDateTime, isWarningEvent } from "./format";

describe("format helpers", () => {
  it("formats timestamps and falls back for null or garbage", () => {
    expect(formatDateTime("2025-03-12T14:03:00Z")).toMatch(/2025/);
    expect(formatDateTime(null)).toBe("Never");
    expect(formatDateTime("not a date", "Unknown")).toBe("Unknown");
  });

  it.each([
    [
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
      "Chrome on Linux",
    ],
    [
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0 Safari/537.36",
      "Headless Chrome on Linux",
    ],
    [
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " +
        "Version/17.0 Mobile/15E148 Safari/604.1",
      "Safari on iOS",
    ],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox on Windows"],
    ["curl/8.5.0", "curl"],
    [null, "Unknown device"],
  ])("describes %s", (agent, expected) => {
    expect(describeUserAgent(agent)).toBe(expected);
  });

  it("names known events and words unknown ones", () => {
    expect(describeEvent("mfa_enabled")).toBe("Two-factor turned on");
    expect(describeEvent("some_new_event")).toBe("Some new event");
    expect(isWarningEvent("login_failed")).toBe(true);
    expect(isWarningEvent("login_succeeded")).toBe(false);
  });
});
