import { describe, expect, test } from "bun:test";
import { descriptorShortageHint } from "../src/errors.ts";
import { canOpenDescriptor } from "../src/transport/descriptors.ts";

describe("descriptorShortageHint", () => {
  test("a refusal (Bun's code for a socket it had no descriptor for) names the shortage only when no descriptor is left", () => {
    for (const code of ["ECONNREFUSED", "ConnectionRefused"]) {
      expect(descriptorShortageHint(code, () => false)).toContain("out of file descriptors (EMFILE)");
      expect(descriptorShortageHint(code, () => true)).toBe("");
    }
  });

  test("other codes never probe", () => {
    let asked = 0;
    const probe = () => {
      asked++;
      return false;
    };
    for (const code of ["ECONNRESET", "ETIMEDOUT", "ENOTFOUND", ""])
      expect(descriptorShortageHint(code, probe)).toBe("");
    expect(asked).toBe(0);
  });

  test("this process, with descriptors to spare, can open one", () => {
    expect(canOpenDescriptor()).toBe(true);
  });
});
