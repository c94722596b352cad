import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import { AppError, BearerError } from "../../src/errors.js";
import { errorWithoutStatement } from "../../src/logger.js";
import { AssertionRefused } from "../../src/modules/second-factor/passkey/assertion.js";
import { PasskeyCloneError } from "../../src/modules/second-factor/passkey/passkey.types.js";

describe("errors keep their names in the logs of the bundled (minified) server", () => {
  it("logs an error's own name as its type, not its class's minified name", () => {
    // What the bundle makes of a class: a short name, and the error's own `name` as the only readable one.
    const Minified = class vO extends Error {
      override name = "OutboxStalled";
    };
    expect(errorWithoutStatement(new Minified("stuck"))).toMatchObject({ type: "OutboxStalled", message: "stuck" });
    expect(errorWithoutStatement(new TypeError("bad"))).toMatchObject({ type: "TypeError" });
    // A plain Error keeps pino's type.
    expect(errorWithoutStatement(new Error("plain"))).toMatchObject({ type: "Error" });
  });

  it("each of the server's error classes names itself", () => {
    const named = [
      new AppError("invalid_credentials"),
      new BearerError("invalid_token", { error: "invalid_token" } as never),
      new ConfigError(["PORT is not a number"]),
      new AssertionRefused("no"),
      new PasskeyCloneError(),
    ].map((error) => errorWithoutStatement(error)["type"]);
    expect(named).toEqual(["AppError", "BearerError", "ConfigError", "AssertionRefused", "PasskeyCloneError"]);
  });

  it("still leaves out a failed statement's SQL and values", () => {
    const error = Object.assign(new Error("duplicate key"), { sql: "insert …", parameters: ["secret"] });
    const logged = errorWithoutStatement(error);
    expect(logged).not.toHaveProperty("sql");
    expect(logged).not.toHaveProperty("parameters");
  });
});
