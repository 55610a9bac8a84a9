// The GitHub release's notes: CHANGELOG.md's section for one version. Refuses a version with no section, an empty one, or one still headed "(unreleased)" (a pre-release may use its coming version's). Pure extract + thin CLI.

import { readFileSync } from "node:fs";

/** A version's heading: `## 1.2.3`, optionally followed by a note in parentheses (a date, or "unreleased"). */
const HEADING = /^## +(\S+)(?: +\((.*)\))? *$/;

/**
 * The body of `version`'s section of `changelog` (up to the next `## ` heading), trimmed. A pre-release
 * (`1.3.0-rc.1`) without a section of its own takes its coming version's (`## 1.3.0 (unreleased)` is fine then).
 * Throws when there is no such section, when a release's heading still says unreleased, or when it is empty.
 */
export function releaseNotes(changelog: string, version: string): string {
  const wanted = version.replace(/^v/, "");
  const lines = changelog.split(/\r?\n/);
  const sectionOf = (name: string): number => lines.findIndex((line) => HEADING.exec(line)?.[1] === name);
  const base = wanted.replace(/[-+].*$/, "");
  const preRelease = base !== wanted;
  let start = sectionOf(wanted);
  if (start === -1 && preRelease) start = sectionOf(base);
  if (start === -1) throw new Error(`CHANGELOG.md has no "## ${wanted}" section: write what this release changes`);
  const note = HEADING.exec(lines[start] ?? "")?.[2] ?? "";
  if (!preRelease && /unreleased/i.test(note)) {
    throw new Error(`CHANGELOG.md's "${lines[start]}" still says unreleased: date it (## ${wanted} (YYYY-MM-DD))`);
  }
  const end = lines.findIndex((line, index) => index > start && line.startsWith("## "));
  const body = lines
    .slice(start + 1, end === -1 ? undefined : end)
    .join("\n")
    .trim();
  if (body === "") throw new Error(`CHANGELOG.md's "${lines[start]}" section is empty`);
  return `${body}\n`;
}

/** CLI: `bun scripts/release-notes.ts <version> [--changelog FILE]`: the notes on stdout. Returns the exit code. */
export function main(argv: readonly string[]): number {
  const [version, flag, file] = argv;
  if (version === undefined || (flag !== undefined && (flag !== "--changelog" || file === undefined))) {
    process.stderr.write("usage: bun scripts/release-notes.ts <version> [--changelog CHANGELOG.md]\n");
    return 2;
  }
  try {
    process.stdout.write(releaseNotes(readFileSync(file ?? "CHANGELOG.md", "utf8"), version));
    return 0;
  } catch (error) {
    process.stderr.write(`release-notes: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
