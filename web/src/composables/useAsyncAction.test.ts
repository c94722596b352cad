import { describe, expect, it } from "vitest";
import { ApiError } from "../api/errors";
import { useAsyncAction } from "./useAsyncAction";

describe("useAsyncAction", () => {
  it("returns the result and tracks pending", async () => {
    const action = useAsyncAction();
    const running = action.run(async () => 42);
    expect(action.pending.value).toBe(true);
    await expect(running).resolves.toBe(42);
    expect(action.pending.value).toBe(false);
    expect(action.error.value).toBeNull();
  });

  it("captures an ApiError as message, code and field errors", async () => {
    const action = useAsyncAction();
    const result = await action.run(async () => {
      throw new ApiError(422, "validation_failed", "x", [{ field: "password", message: "too short" }]);
    });
    expect(result).toBeUndefined();
    expect(action.error.value).toBe("Some fields need attention.");
    expect(action.errorCode.value).toBe("validation_failed");
    expect(action.fieldErrors.value).toEqual({ password: "Too short." });
  });

  it("clears the last error when run again and ignores a second run while pending", async () => {
    const action = useAsyncAction();
    await action.run(async () => {
      throw new ApiError(401, "invalid_otp", "x");
    });
    let release: () => void = () => undefined;
    const first = action.run(
      () =>
        new Promise<string>((resolve) => {
          release = () => resolve("done");
        }),
    );
    expect(action.error.value).toBeNull();
    await expect(action.run(async () => "second")).resolves.toBeUndefined();
    release();
    await expect(first).resolves.toBe("done");
  });

  it("shows a refused password on the password field of a form that re-asks it, not as a banner", async () => {
    const action = useAsyncAction({ fields: { password: "current_password", code: "code" } });
    await action.run(async () => {
      throw new ApiError(401, "invalid_credentials", "x");
    });
    expect(action.error.value).toBeNull();
    expect(action.fieldErrors.value).toEqual({ current_password: "The password is not correct." });
    expect(action.errorCode.value).toBe("invalid_credentials");
  });

  it("words a refused code for what the field held", async () => {
    let kind: "totp" | "recovery_code" = "recovery_code";
    const action = useAsyncAction({ fields: () => ({ password: "password", code: "code" }), codeKind: () => kind });
    const refuse = async (): Promise<never> => {
      throw new ApiError(401, "invalid_otp", "x");
    };
    await action.run(refuse);
    expect(action.fieldErrors.value.code).toMatch(/^That recovery code is not right/);
    kind = "totp";
    await action.run(refuse);
    expect(action.fieldErrors.value.code).toBe("That code is not right. Check your authenticator app and try again.");
    expect(action.error.value).toBeNull();
  });

  it("keeps the sign-in wording as the form's message when the form names no fields", async () => {
    const action = useAsyncAction();
    await action.run(async () => {
      throw new ApiError(401, "invalid_credentials", "x");
    });
    expect(action.error.value).toBe("The username or password is incorrect.");
    expect(action.fieldErrors.value).toEqual({});
  });

  it("keeps a refusal for a field the form does not have as the form's message", async () => {
    const action = useAsyncAction({ fields: { password: "password" } });
    await action.run(async () => {
      throw new ApiError(401, "mfa_required", "x");
    });
    expect(action.error.value).toMatch(/two-factor/);
  });

  it("check flags every problem at once and sends nothing", () => {
    const action = useAsyncAction();
    expect(action.check({ username: "Enter a username.", email: null, password: "Enter a password." })).toBe(false);
    expect(action.fieldErrors.value).toEqual({ username: "Enter a username.", password: "Enter a password." });
    expect(action.error.value).toBeNull();
    expect(action.check({ username: null })).toBe(true);
    expect(action.fieldErrors.value).toEqual({});
  });
});
