// Runs release.yml's "Publish the GitHub release" step as GitHub would (bash -eo pipefail) against a stand-in `gh`
// that logs its arguments: which assets a tag publishes, as what kind of release, and a re-run that uploads again.

import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RELEASE_TARGETS } from "../scripts/build.ts";
import { ROOT } from "./support/binary.ts";
import { tempDir } from "./support/temp.ts";

interface Step {
  name?: string;
  run?: string;
  with?: Record<string, unknown>;
}
const release = Bun.YAML.parse(readFileSync(join(ROOT, ".github", "workflows", "release.yml"), "utf8")) as {
  jobs: Record<string, { steps?: Step[] }>;
};
const PUBLISH = (release.jobs.release?.steps ?? []).find((step) => step.name === "Publish the GitHub release")?.run;

/** The release assets build:all and the formula step leave in dist/ (names from scripts/build.ts). */
const ASSETS = [
  ...Object.keys(RELEASE_TARGETS).map((suffix) => `baton-proxy-${suffix}${suffix.startsWith("windows") ? ".exe" : ""}`),
  "SHA256SUMS",
  "baton-proxy.rb",
];

/** Runs the step for `tag`; `exists` says whether `gh release view` finds a release of that tag. Returns gh's calls. */
function publish(tag: string, exists: boolean): { code: number; calls: string[][] } {
  const dir = tempDir("baton-publish-");
  mkdirSync(join(dir, "dist"));
  // The host binary .ci/run or a developer built sits there too and must not be published.
  for (const name of [...ASSETS, "baton-proxy", "RELEASE-NOTES.md"]) writeFileSync(join(dir, "dist", name), name);
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const log = join(dir, "gh.log");
  writeFileSync(
    join(bin, "gh"),
    `#!/bin/bash\nprintf '%s\\0' "$@" >> "${log}"; printf '\\n' >> "${log}"\n[ "$2" = view ] && exit ${exists ? 0 : 1}\nexit 0\n`,
  );
  chmodSync(join(bin, "gh"), 0o755);
  writeFileSync(join(dir, "step.sh"), PUBLISH ?? "exit 99");
  const proc = Bun.spawnSync(["/bin/bash", "--noprofile", "--norc", "-eo", "pipefail", join(dir, "step.sh")], {
    cwd: dir,
    env: { PATH: `${bin}:/usr/bin:/bin`, GITHUB_REF_NAME: tag, GH_TOKEN: "t" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const calls = existsSync(log)
    ? readFileSync(log, "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => line.split("\0").filter((arg) => arg !== ""))
    : [];
  return { code: proc.exitCode ?? -1, calls };
}

describe("release.yml: publishing the GitHub release", () => {
  test("the step exists", () => {
    expect(PUBLISH).toBeString();
  });

  test("a release tag: every binary, SHA256SUMS and the formula, in a new release marked as such", () => {
    const { code, calls } = publish("v1.2.3", false);
    expect(code).toBe(0);
    const create = calls.find((call) => call[1] === "create") ?? [];
    expect(create.slice(0, 3)).toEqual(["release", "create", "v1.2.3"]);
    const notes = create[create.indexOf("--notes-file") + 1];
    const assets = create.filter((arg) => arg.startsWith("dist/") && arg !== notes);
    expect(assets.sort()).toEqual(ASSETS.map((a) => `dist/${a}`).sort());
    expect(create).not.toContain("--prerelease");
  });

  test("the notes are CHANGELOG.md's section of the version, written by the build job into the files it hands on", () => {
    // --generate-notes alone listed pull requests (nothing at all for a first release), never the CHANGELOG.
    const { calls } = publish("v1.2.3", false);
    const create = calls.find((call) => call[1] === "create") ?? [];
    expect(create).not.toContain("--generate-notes");
    expect(create[create.indexOf("--notes-file") + 1]).toBe("dist/RELEASE-NOTES.md");
    const build = release.jobs.build?.steps ?? [];
    const writer = build.findIndex((step) => step.run?.includes("scripts/release-notes.ts"));
    const upload = build.findIndex((step) => String(step.with?.path ?? "").includes("dist/RELEASE-NOTES.md"));
    expect(build[writer]?.run).toContain(
      'npx bun scripts/release-notes.ts "${GITHUB_REF_NAME#v}" > dist/RELEASE-NOTES.md',
    );
    expect(writer).toBeLessThan(upload);
    expect(build[upload]?.with?.name).toBe("release-assets");
  });

  test("a pre-release tag (v1.3.0-rc.1) is published as a pre-release, never as the latest release", () => {
    // Without --prerelease GitHub shows it as "Latest": releases/latest/download/… and the release page
    // would hand a release candidate to everyone.
    const { code, calls } = publish("v1.3.0-rc.1", false);
    expect(code).toBe(0);
    const create = calls.find((call) => call[1] === "create") ?? [];
    expect(create).toContain("--prerelease");
  });

  test("a re-run for a release that exists uploads the assets again, replacing them", () => {
    const { code, calls } = publish("v1.2.3", true);
    expect(code).toBe(0);
    const upload = calls.find((call) => call[1] === "upload") ?? [];
    expect(upload.slice(0, 3)).toEqual(["release", "upload", "v1.2.3"]);
    expect(upload).toContain("--clobber");
    expect(calls.some((call) => call[1] === "create")).toBe(false);
  });
});
