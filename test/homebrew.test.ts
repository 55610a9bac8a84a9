// Tests scripts/homebrew.ts: checksum parsing, the rendered formula, `ruby -c` where ruby exists, and the CLI.

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { DEFAULT_REPO, FORMULA_ASSETS, parseChecksums, renderFormula } from "../scripts/homebrew.ts";
import { tempDir } from "./support/temp.ts";

const ROOT = resolve(import.meta.dir, "..");
const SUMS_TEXT = readFileSync(join(import.meta.dir, "fixtures", "homebrew", "SHA256SUMS"), "utf8");
const SUMS = parseChecksums(SUMS_TEXT);
const RUBY = Bun.which("ruby");
const dir = tempDir("baton-brew-");

describe("parseChecksums", () => {
  test("reads every line of the fixture", () => {
    expect(SUMS.size).toBe(5);
    expect(SUMS.get("baton-proxy-darwin-arm64")).toBe(
      "9abfe7209497447f3682c3b7f731eec45d5b9232bdde83f3f9fa51a6035fa5ea",
    );
  });

  test("accepts binary-mode markers, CRLF and upper-case hex", () => {
    const line = (name: string, mark = " "): string => `${"AB".repeat(32)} ${mark}${name}`;
    const text = [
      line("baton-proxy-linux-x64", "*"),
      line("baton-proxy-linux-arm64"),
      line("baton-proxy-darwin-x64"),
      line("baton-proxy-darwin-arm64"),
    ].join("\r\n");
    expect(parseChecksums(text).get("baton-proxy-linux-x64")).toBe("ab".repeat(32));
  });

  test.each([
    ["a short hash", SUMS_TEXT.replace(/^0702f1cc/, "0702"), 'line 1 is not "<sha256>  <file>"'],
    ["a single space", SUMS_TEXT.replace("  baton-proxy-linux-arm64", " baton-proxy-linux-arm64"), "line 2 is not"],
    ["a duplicate", `${SUMS_TEXT}${SUMS_TEXT.split("\n")[0]}\n`, "line 6 lists baton-proxy-linux-x64 again"],
    [
      "a missing mac asset",
      SUMS_TEXT.split("\n")
        .filter((l) => !l.endsWith("darwin-arm64"))
        .join("\n"),
      "no checksum for baton-proxy-darwin-arm64",
    ],
    ["an empty file", "", "no checksum for baton-proxy-darwin-arm64"],
  ])("rejects %s", (_label, text, message) => {
    expect(() => parseChecksums(text)).toThrow(message);
  });
});

describe("renderFormula", () => {
  const formula = renderFormula({ version: "1.2.3", repo: "acme/baton-proxy", checksums: SUMS });

  test("has the class, metadata and test block", () => {
    expect(formula).toContain("class BatonProxy < Formula");
    expect(formula).toContain('  version "1.2.3"');
    expect(formula).toContain('  license "Apache-2.0"');
    expect(formula).toContain('  homepage "https://github.com/acme/baton-proxy"');
    expect(formula).toMatch(/^ {2}desc "[^"]+"$/m);
    expect(formula).toContain('    assert_match version.to_s, shell_output("#{bin}/baton-proxy --version")');
    expect(formula.endsWith("end\n")).toBe(true);
  });

  test("every macOS/Linux asset has its URL, sum and install line in the right block; no Windows asset", () => {
    for (const [os, cpus] of Object.entries(FORMULA_ASSETS)) {
      const osBlock = formula.slice(
        formula.indexOf(`  on_${os} do`),
        formula.indexOf("\n  end\n", formula.indexOf(`  on_${os} do`)),
      );
      for (const [cpu, asset] of Object.entries(cpus)) {
        const cpuBlock = osBlock.slice(osBlock.indexOf(`    on_${cpu} do`));
        expect(cpuBlock).toContain(`url "https://github.com/acme/baton-proxy/releases/download/v#{version}/${asset}"`);
        expect(cpuBlock).toContain(`sha256 "${SUMS.get(asset)}"`);
        expect(cpuBlock).toContain(`bin.install "${asset}" => "baton-proxy"`);
      }
    }
    expect(formula.match(/sha256 "/g)).toHaveLength(4);
    expect(formula).not.toContain("windows");
  });

  test("a leading v is dropped; bad input is refused", () => {
    expect(renderFormula({ version: "v1.2.3", repo: DEFAULT_REPO, checksums: SUMS })).toContain('version "1.2.3"');
    expect(() => renderFormula({ version: "latest", repo: DEFAULT_REPO, checksums: SUMS })).toThrow("is not semver");
    expect(() => renderFormula({ version: "1.0.0", repo: "no-slash", checksums: SUMS })).toThrow("is not owner/name");
    expect(() => renderFormula({ version: "1.0.0", repo: DEFAULT_REPO, checksums: new Map() })).toThrow(
      "no valid checksum for baton-proxy-darwin-arm64",
    );
  });

  test.skipIf(RUBY === null)(
    `ruby -c accepts the formula${RUBY === null ? " (SKIPPED: ruby is not installed here)" : ""}`,
    () => {
      const file = join(dir, "baton-proxy.rb");
      writeFileSync(file, formula);
      const result = Bun.spawnSync([RUBY!, "-c", file]);
      expect(result.stdout.toString()).toContain("Syntax OK");
      expect(result.exitCode).toBe(0);
    },
  );
});

describe("CLI", () => {
  const run = (args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } => {
    const result = Bun.spawnSync([process.execPath, join(ROOT, "scripts", "homebrew.ts"), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
  };
  const sumsPath = join(import.meta.dir, "fixtures", "homebrew", "SHA256SUMS");

  test("prints to stdout with the package version and GITHUB_REPOSITORY", () => {
    const result = run(["--sums", sumsPath], { GITHUB_REPOSITORY: "someone/fork" });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`version "${pkg.version}"`);
    expect(result.stdout).toContain("https://github.com/someone/fork/releases/download/");
  });

  test("--out writes a file; --repo wins over the environment", () => {
    const out = join(dir, "out.rb");
    const result = run(["--sums", sumsPath, "--version", "9.9.9", "--repo", "o/r", "--out", out], {
      GITHUB_REPOSITORY: "x/y",
    });
    expect(result).toMatchObject({ code: 0, stdout: "" });
    expect(readFileSync(out, "utf8")).toBe(renderFormula({ version: "9.9.9", repo: "o/r", checksums: SUMS }));
  });

  test("bad sums exit 1 with the reason; bad flags exit 2", () => {
    const bad = join(dir, "BAD_SUMS");
    writeFileSync(bad, "nonsense\n");
    const result = run(["--sums", bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 1 is not "<sha256>  <file>"');
    expect(run(["--bogus"]).code).toBe(2);
  });
});
