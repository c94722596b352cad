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
});
