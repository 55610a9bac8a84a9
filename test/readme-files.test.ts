// The README's "Files" tree: every source file of src/, scripts/, test/support/ and test/fixtures/ is named in it (by name or a
// `prefix-*.ts` pattern), and every file name it gives exists.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join, sep } from "node:path";
import { ROOT } from "./support/binary.ts";

function filesBlock(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## Files"));
  const start = section.indexOf("```\n") + 4;
  return section.slice(start, section.indexOf("```", start));
}

const NAME = /[\w.*-]+\.(?:ts|mjs|c|h|sh)\b/g;
const names = [...new Set(filesBlock().match(NAME) ?? [])];
const patterns = names.map((name) => new RegExp(`^${name.replace(/\./g, "\\.").replace(/\*/g, "[\\w.-]+")}$`));

const listed = (dir: string, pattern: string): string[] =>
  [...new Bun.Glob(pattern).scanSync({ cwd: join(ROOT, dir) })].map((path) => join(dir, path));
const sources = [
  ...listed("src", "**/*.ts"),
  ...listed("scripts", "*"),
  ...listed(join("test", "support"), "*.ts"),
  // The fixture servers are named by purpose (echo, noisy, …) on their own line; every other fixture's code by name.
  ...listed(join("test", "fixtures"), "**/*.{ts,mjs}").filter((path) => !path.includes(`fixtures${sep}servers${sep}`)),
].sort();
const everyBasename = new Set(
  [...new Bun.Glob("**/*").scanSync({ cwd: ROOT, dot: true })]
    .filter((path) => !path.startsWith("node_modules/") && !path.startsWith(".git/"))
    .map((path) => basename(path)),
);

describe("README Files", () => {
  test("names every file of src/, scripts/, test/support/ and test/fixtures/ (code)", () => {
    const missing = sources.filter((path) => !patterns.some((pattern) => pattern.test(basename(path))));
    expect(missing).toEqual([]);
  });

  test("names every top-level file and folder of the repository", () => {
    const block = filesBlock();
    // What git ignores (node_modules/, dist/, *.log…) is no part of the tree.
    const ignored = readFileSync(join(ROOT, ".gitignore"), "utf8").split("\n").filter(Boolean);
    const isIgnored = (name: string): boolean =>
      name === ".git" ||
      ignored.some(
        (line) => line === name || line === `${name}/` || (line.startsWith("*.") && name.endsWith(line.slice(1))),
      );
    const top = readdirSync(ROOT).filter((name) => !isIgnored(name));
    const missing = top.filter((name) => !new RegExp(`^${name.replace(/\./g, "\\.")}(?:/|\\s)`, "m").test(block));
    expect(missing).toEqual([]);
  });

  test("the top level holds only what the product card allows (tool settings go in dotfiles)", () => {
    const allowed = new Set([
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "bunfig.toml",
      "src",
      "test",
      "scripts",
      "deploy",
      "README.md",
      "CHANGELOG.md",
      "LICENSE",
      // Ignored by git, so never in a clone: installed packages and the build output.
      "node_modules",
      "dist",
    ]);
    const tracked = readdirSync(ROOT).filter((name) => !name.startsWith(".") && !allowed.has(name));
    expect(tracked).toEqual([]);
  });

  test("names every file of deploy/container/ (the image's Dockerfile and its README)", () => {
    const block = filesBlock();
    const missing = readdirSync(join(ROOT, "deploy", "container")).filter(
      (name) => !new RegExp(`\\bcontainer/${name.replace(/\./g, "\\.")}\\s`).test(block),
    );
    expect(missing).toEqual([]);
  });

  test("every file name it gives exists (a pattern matches at least one file)", () => {
    const absent = names.filter((_name, i) => ![...everyBasename].some((file) => patterns[i]?.test(file)));
    expect(absent).toEqual([]);
  });
});
