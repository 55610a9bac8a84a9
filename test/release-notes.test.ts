// Tests scripts/release-notes.ts: the release's notes are CHANGELOG.md's section of that version, and a version with
// no section, an empty one or one still headed "(unreleased)" is refused (the release job then publishes nothing).

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { releaseNotes } from "../scripts/release-notes.ts";
import { ROOT } from "./support/binary.ts";

const CHANGELOG = [
  "# Changelog",
  "",
  "Intro.",
  "",
  "## 1.3.0 (unreleased)",
  "",
  "- next",
  "",
  "## 1.2.0 (2026-11-30)",
  "",
  "- added a thing",
  "  over two lines",
  "",
  "### Fixed",
  "",
  "- a bug",
  "",
  "## 1.1.0",
  "",
  "- older",
  "## 1.0.0",
  "",
].join("\n");

describe("releaseNotes", () => {
  test("a dated section: its body up to the next version, sub-headings kept, trimmed", () => {
    expect(releaseNotes(CHANGELOG, "1.2.0")).toBe("- added a thing\n  over two lines\n\n### Fixed\n\n- a bug\n");
    expect(releaseNotes(CHANGELOG, "v1.2.0")).toBe(releaseNotes(CHANGELOG, "1.2.0"));
    expect(releaseNotes(CHANGELOG, "1.1.0")).toBe("- older\n");
  });

  test("a pre-release without a section of its own: its coming version's, unreleased or not", () => {
    expect(releaseNotes(CHANGELOG, "1.3.0-rc.1")).toBe("- next\n");
    expect(releaseNotes(`${CHANGELOG}\n## 1.4.0-beta.2\n\n- beta\n`, "v1.4.0-beta.2")).toBe("- beta\n");
    expect(() => releaseNotes(CHANGELOG, "1.5.0-rc.1")).toThrow('no "## 1.5.0-rc.1" section');
  });

  test("CRLF line endings read the same", () => {
    expect(releaseNotes(CHANGELOG.replaceAll("\n", "\r\n"), "1.1.0")).toBe("- older\n");
  });

  test.each([
    ["1.3.0", "still says unreleased"],
    ["1.4.0", 'no "## 1.4.0" section'],
    ["1.0.0", "section is empty"],
    // A prefix of a listed version is not that version.
    ["1.2", 'no "## 1.2" section'],
  ])("%s is refused: %s", (version, message) => {
    expect(() => releaseNotes(CHANGELOG, version)).toThrow(message);
  });

  test("CHANGELOG.md has a section for package.json's version (dated when it is released)", () => {
    const changelog = readFileSync(join(ROOT, "CHANGELOG.md"), "utf8");
    let outcome: string;
    try {
      outcome = releaseNotes(changelog, pkg.version).length > 0 ? "notes" : "empty";
    } catch (error) {
      outcome = String(error);
    }
    expect(outcome === "notes" || outcome.includes("still says unreleased"), outcome).toBe(true);
  });
});

describe("the CLI", () => {
  const run = (args: string[]) => {
    const proc = Bun.spawnSync([process.execPath, join(ROOT, "scripts", "release-notes.ts"), ...args], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
  };

  test("no version is a usage error", () => {
    expect(run([]).code).toBe(2);
    expect(run(["1.0.0", "--changelog"]).code).toBe(2);
  });

  test("a version CHANGELOG.md does not have: exit 1, the reason on stderr, nothing on stdout", () => {
    const out = run(["99.0.0"]);
    expect(out).toMatchObject({ code: 1, stdout: "" });
    expect(out.stderr).toContain('no "## 99.0.0" section');
  });
});
