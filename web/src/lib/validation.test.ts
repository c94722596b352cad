import { describe, expect, it } from "vitest";
import { codeProblem, emailProblem, missing, newPasswordProblem, requireValue } from "./validation";

describe("form checks", () => {
  it("flags an empty or blank required value", () => {
    expect(requireValue("", missing.username)).toBe("Enter a username.");
    expect(requireValue("   ", missing.password)).toBe("Enter your password.");
    expect(requireValue("alice", missing.username)).toBeNull();
  });

  it("gives a short new password one message", () => {
    expect(newPasswordProblem("")).toBe("Enter a new password.");
    expect(newPasswordProblem("", missing.firstPassword)).toBe("Enter a password.");
    expect(newPasswordProblem("short")).toBe("Use at least 8 characters.");
    expect(newPasswordProblem("x".repeat(257))).toBe("Use at most 256 characters.");
    expect(newPasswordProblem("quiet-ledger-harbour")).toBeNull();
  });

  it("counts characters as the server does, not UTF-16 units", () => {
    // Four emoji are 8 UTF-16 units but 4 characters.
    expect(newPasswordProblem("🔑🔑🔑🔑")).toBe("Use at least 8 characters.");
    expect(newPasswordProblem("🔑🔑🔑🔑🔑🔑🔑🔑")).toBeNull();
  });

  it("checks the shape of an email address, optional or not", () => {
    expect(emailProblem("")).toBe("Enter an email address.");
    expect(emailProblem("", true)).toBeNull();
    expect(emailProblem("alice")).toBe("Enter an email address like name@example.com.");
    expect(emailProblem(" alice@example.test ")).toBeNull();
  });

  it("asks for the code the field holds", () => {
    expect(codeProblem("")).toBe("Enter the 6-digit code from your authenticator app.");
    expect(codeProblem("123")).toBe("The code has 6 digits.");
    expect(codeProblem("123456")).toBeNull();
    expect(codeProblem("", "recovery_code")).toBe("Enter one of your recovery codes.");
    expect(codeProblem("ABCD-EFGH", "recovery_code")).toBeNull();
  });
});
