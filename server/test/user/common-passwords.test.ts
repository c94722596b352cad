import { describe, expect, it } from "vitest";
import { passwordProblems } from "../../src/modules/user/password.js";

const common = /common/;

describe("the common-password list", () => {
  it("refuses the first, a middle and the last entry of the list, in any case", () => {
    // The first, an early, a middle and the last of the ~49,000 entries.
    for (const password of ["123456", "baseball", "BaseBall", "dimazarya", "XPCREW"]) {
      expect(passwordProblems(password).join()).toMatch(common);
    }
  });

  it("does not take two neighbouring entries joined by a comma for one entry", () => {
    // "password" and "12345678" are neighbours in the list: a lookup by substring must not join them.
    expect(passwordProblems("password,12345678").join()).not.toMatch(common);
  });

  it("does not refuse a part or an extension of an entry", () => {
    expect(passwordProblems("aseball").join()).not.toMatch(common);
    expect(passwordProblems("baseball-in-the-rain").join()).not.toMatch(common);
  });
});
