// Runs .ci/run in a made-up clone (a folder whose name has a space) with stand-ins for npm and bun: its exit status and
// its last line, "N passed, N failed, N skipped" read from the JUnit report, whatever step fails.

import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./support/binary.ts";
import { tempDir } from "./support/temp.ts";

interface Run {
  /** Exit statuses of the stand-ins' steps (0 when not given). */
  readonly npmCi?: number;
  readonly build?: number;
  readonly lint?: number;
  readonly typecheck?: number;
  readonly test?: number;
  /** The JUnit report `npm test` writes; undefined: none (the run crashed before writing it). */
  readonly junit?: string;
}

const junit = (tests: number, failures: number, skipped: number, files: string[]): string =>
  [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="bun test" tests="${tests}" assertions="9" failures="${failures}" skipped="${skipped}" time="1">`,
    ...files.map(
      (file) => `  <testsuite name="${file}" file="${file}" tests="1" failures="0" skipped="0" time="1"></testsuite>`,
    ),
    "</testsuites>",
  ].join("\n");

function ciRun(run: Run): { code: number; lines: string[]; out: string } {
  const clone = join(tempDir("baton-ci-run-"), "a clone");
  mkdirSync(join(clone, ".ci"), { recursive: true });
  copyFileSync(join(ROOT, ".ci", "run"), join(clone, ".ci", "run"));
  mkdirSync(join(clone, "scripts"));
  writeFileSync(join(clone, "scripts", "install-test-tools.sh"), "exit 0\n");
  mkdirSync(join(clone, "test"));
  for (const name of ["a.test.ts", "b.test.ts"]) writeFileSync(join(clone, "test", name), "");
  const bin = join(clone, "node_modules", ".bin");
  mkdirSync(bin, { recursive: true });
  const stub = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  if (run.junit !== undefined) writeFileSync(join(clone, "junit-to-write.xml"), run.junit);
  stub(
    "npm",
    [
      `case "$1 $2" in`,
      `  "ci "*) exit ${run.npmCi ?? 0} ;;`,
      `  "run lint") exit ${run.lint ?? 0} ;;`,
      `  "run typecheck") exit ${run.typecheck ?? 0} ;;`,
      `  "test "*) [ -f junit-to-write.xml ] && cp junit-to-write.xml node_modules/.baton-test-junit.xml; exit ${run.test ?? 0} ;;`,
      "esac",
      "exit 99",
    ].join("\n"),
  );
  stub("bun", `[ "$1" = --version ] && { echo 1.4.5; exit 0; }\nexit ${run.build ?? 0}`);
  const proc = Bun.spawnSync(["/bin/bash", join(clone, ".ci", "run")], {
    // The stand-ins come first, as node_modules/.bin does once .ci/run puts it on PATH; node is the real one.
    env: { PATH: `${bin}:${Bun.which("node")?.replace(/\/node$/, "") ?? "/usr/bin"}:/usr/bin:/bin`, CI: "true" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = proc.stdout.toString();
  return { code: proc.exitCode ?? -1, lines: out.trimEnd().split("\n"), out };
}

const BOTH = ["test/a.test.ts", "test/b.test.ts"];

describe(".ci/run", () => {
  test("all green: exit 0, the counts of the report as the last line", () => {
    const { code, lines } = ciRun({ junit: junit(5, 0, 1, BOTH) });
    expect(lines.at(-1)).toBe("4 passed, 0 failed, 1 skipped");
    expect(code).toBe(0);
  });

  test.each([
    ["npm ci fails", { npmCi: 1 }, "npm ci failed"],
    ["the build fails", { build: 1 }, "build failed"],
    ["no JUnit report (the test run crashed)", { test: 1 }, "no JUnit report was written"],
  ] as const)("%s: non-zero, and still a last line that counts a failure", (_name, run, said) => {
    const { code, lines, out } = ciRun({ ...run });
    expect(out).toContain(said);
    expect(lines.at(-1)).toBe("0 passed, 1 failed");
    expect(code).toBe(1);
  });

  test("a test file the report does not name (it failed to load) counts as a failure", () => {
    const { code, lines } = ciRun({ junit: junit(5, 0, 0, ["test/a.test.ts"]) });
    expect(lines.at(-1)).toBe("5 passed, 1 failed, 0 skipped");
    expect(code).not.toBe(0);
  });

  test("bun test failing with no failed case (an error outside a test) counts one more failure, as lint does", () => {
    const { code, lines } = ciRun({ junit: junit(5, 0, 0, BOTH), test: 1 });
    expect(lines.at(-1)).toBe("5 passed, 1 failed, 0 skipped");
    expect(code).not.toBe(0);
  });

  test("a failed lint and typecheck after green tests: each counted, the summary still last, non-zero", () => {
    const { code, lines } = ciRun({ junit: junit(5, 0, 0, BOTH), lint: 1, typecheck: 2 });
    expect(lines.at(-1)).toBe("5 passed, 2 failed, 0 skipped");
    expect(code).not.toBe(0);
  });

  test("failures in the report are counted as failed, not passed", () => {
    const { code, lines } = ciRun({ junit: junit(5, 2, 1, BOTH), test: 1 });
    expect(lines.at(-1)).toBe("2 passed, 2 failed, 1 skipped");
    expect(code).not.toBe(0);
  });
});
