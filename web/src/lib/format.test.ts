import { describe, expect, it } from "vitest";
import { describeEvent, describeUserAgent, formatDateTime, isWarningEvent, recoveryCodesLeftMessage } from "./format";

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

  it.each([
    [10, "10 of 10 recovery codes left.", false],
    [4, "4 of 10 recovery codes left.", false],
    [3, "Only 3 of 10 recovery codes left. Create a new set soon.", true],
    [1, "Only 1 of 10 recovery codes left. Create a new set soon.", true],
    [0, "No recovery codes left. Create a new set now, or a lost phone locks you out.", true],
  ])("says how many recovery codes are left (%i) and warns when few are", (remaining, text, warn) => {
    expect(recoveryCodesLeftMessage(remaining)).toEqual({ text, warn });
  });
});
