import { describe, expect, it } from "vitest";
import { formatTable } from "./table.js";

describe("formatTable", () => {
  it("pads every column but the last to its widest cell, under a header row", () => {
    expect(
      formatTable(
        ["ID", "USERNAME", "ROLES"],
        [
          ["1", "alice", "admin"],
          ["22", "bo", "-"],
        ],
      ),
    ).toBe(["ID  USERNAME  ROLES", "1   alice     admin", "22  bo        -"].join("\n"));
  });

  it("prints the header alone when there are no rows", () => {
    expect(formatTable(["TIME", "EVENT"], [])).toBe("TIME  EVENT");
  });
});
