// Checks .github/workflows/*.yml: valid YAML, the expected triggers and jobs, and that every script path and npm script a step runs exists.

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };

const ROOT = resolve(import.meta.dir, "..");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  "runs-on"?: unknown;
  steps?: Step[];
  strategy?: { matrix?: { os?: string[] } };
}
interface Workflow {
  on?: unknown;
  jobs?: Record<string, Job>;
  permissions?: Record<string, string>;
}

function load(name: string): Workflow {
  const parsed = Bun.YAML.parse(readFileSync(join(ROOT, ".github", "workflows", name), "utf8")) as Workflow & { true?: unknown };
  // A YAML 1.1 reader turns the key `on` into `true`; accept either so the check is about content.
  return { ...parsed, on: parsed.on ?? parsed.true };
}

const runs = (workflow: Workflow): string[] => Object.values(workflow.jobs ?? {}).flatMap((job) => (job.steps ?? []).flatMap((step) => step.run ?? []));
const uses = (workflow: Workflow): string[] => Object.values(workflow.jobs ?? {}).flatMap((job) => (job.steps ?? []).flatMap((step) => step.uses ?? []));

describe.each(["ci.yml", "release.yml"])("%s", (name) => {
  const workflow = load(name);

  test("has triggers and jobs, each with runs-on and steps", () => {
    expect(workflow.on).toBeDefined();
    expect(Object.keys(workflow.jobs ?? {}).length).toBeGreaterThan(0);
    for (const job of Object.values(workflow.jobs ?? {})) {
      expect(job["runs-on"]).toBeDefined();
      expect(Array.isArray(job.steps) && job.steps.length > 0).toBe(true);
      for (const step of job.steps ?? []) expect(step.uses !== undefined || step.run !== undefined).toBe(true);
    }
  });

  test("checks out, sets up node 20", () => {
    expect(uses(workflow).some((u) => u.startsWith("actions/checkout@"))).toBe(true);
    const setup = Object.values(workflow.jobs ?? {}).flatMap((job) => job.steps ?? []).find((step) => step.uses?.startsWith("actions/setup-node@"));
    expect(String(setup?.with?.["node-version"])).toBe("20");
  });

  test("every scripts/… and .ci/… path it runs exists", () => {
    const paths = runs(workflow).flatMap((run) => run.match(/(?:^|[\s"'])((?:scripts|\.ci)\/[\w./-]+)/g) ?? []).map((m) => m.trim().replace(/^["']/, ""));
    for (const path of paths) expect(existsSync(join(ROOT, path)), `${name} runs ${path}, which does not exist`).toBe(true);
  });

  test("every npm/bun run script it names is in package.json", () => {
    const scripts = Object.keys(pkg.scripts);
    const named = runs(workflow).flatMap((run) => [...run.matchAll(/\b(?:npm|bun) run ([\w:-]+)/g)].map((m) => m[1] ?? ""));
    for (const script of named) expect(scripts, `${name} runs "${script}"`).toContain(script);
  });
});

test("ci.yml runs .ci/run on Linux and macOS for pushes and pull requests", () => {
  const ci = load("ci.yml");
  expect(Object.keys(ci.on as object)).toEqual(expect.arrayContaining(["push", "pull_request"]));
  const job = Object.values(ci.jobs ?? {})[0];
  expect(job?.strategy?.matrix?.os).toEqual(["ubuntu-latest", "macos-latest"]);
  expect(runs(ci)).toContain("bash .ci/run");
});

test("release.yml publishes v* tags: build:all, checksums, gh release, homebrew formula", () => {
  const release = load("release.yml");
  expect((release.on as { push?: { tags?: string[] } }).push?.tags).toEqual(["v*"]);
  expect(release.permissions?.contents).toBe("write");
  const script = runs(release).join("\n");
  expect(script).toContain("npm ci");
  expect(script).toContain("npx bun run build:all");
  expect(script).toContain("sha256sum --check --strict SHA256SUMS");
  expect(script).toContain('gh release create "$GITHUB_REF_NAME"');
  expect(script).toContain("dist/baton-proxy-* dist/SHA256SUMS");
  expect(script).toContain('npx bun scripts/homebrew.ts --sums dist/SHA256SUMS --repo "$GITHUB_REPOSITORY" --out dist/baton-proxy.rb');
  expect(uses(release).some((u) => u.startsWith("actions/upload-artifact@"))).toBe(true);
});

test("both workflows test through .ci/run, which runs lint, typecheck and the README's test command (npm test)", () => {
  for (const name of ["ci.yml", "release.yml"]) {
    const script = runs(load(name)).join("\n");
    expect(script, name).toContain("bash .ci/run");
    // A job that runs a subset directly (e.g. a Windows-only job) must still carry the suite's timeout.
    for (const run of script.match(/\bbun test\b[^\n]*/g) ?? []) expect(run, name).toContain("--timeout=30000");
  }
  const ciRun = readFileSync(join(ROOT, ".ci", "run"), "utf8");
  for (const step of ["npm test", "npm run typecheck", "npx biome lint ."]) expect(ciRun).toContain(step);
  expect(pkg.scripts.test).toBe("bun test --timeout=30000");
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  expect(readme).toContain("npm test ");
});
