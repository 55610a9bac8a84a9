import { describe, expect, test } from "bun:test";
import { describeError, descriptorShortageHint, LocalError } from "../src/errors.ts";
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

describe("describeError", () => {
  test("an OS or library code stays in front (ENOENT: …); the proxy's own codes (E_SINK …) stay out of the words a user reads", () => {
    const os = Object.assign(new Error("no such file or directory"), { code: "ENOENT" });
    expect(describeError(os)).toBe("ENOENT: no such file or directory");
    const own = new LocalError("E_SINK", "file:///tmp/x.jsonl: not open (has other hard links); 3 event(s) dropped");
    expect(describeError(own)).toBe("file:///tmp/x.jsonl: not open (has other hard links); 3 event(s) dropped");
    expect(own.code).toBe("E_SINK"); // still there for the program
    expect(describeError(new LocalError("E_SINK", "x", { cause: os }))).toBe("x");
  });
});
