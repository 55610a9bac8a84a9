// Checks .github/workflows/*.yml: valid YAML, the expected triggers and jobs (tests, release, image, Helm chart, kind end to end), and that every script path and npm script a step runs exists.

import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { RELEASE_TARGETS } from "../scripts/build.ts";

const ROOT = resolve(import.meta.dir, "..");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  "runs-on"?: unknown;
  /** A reusable workflow the job runs instead of steps (./.github/workflows/…). */
  uses?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps?: Step[];
  strategy?: { matrix?: { os?: string[] } };
}
interface Workflow {
  on?: unknown;
  jobs?: Record<string, Job>;
  permissions?: Record<string, string>;
}

function load(name: string): Workflow {
  const parsed = Bun.YAML.parse(readFileSync(join(ROOT, ".github", "workflows", name), "utf8")) as Workflow & {
    true?: unknown;
  };
  // A YAML 1.1 reader turns the key `on` into `true`; accept either so the check is about content.
  return { ...parsed, on: parsed.on ?? parsed.true };
}

const runs = (workflow: Workflow): string[] =>
  Object.values(workflow.jobs ?? {}).flatMap((job) => (job.steps ?? []).flatMap((step) => step.run ?? []));
const uses = (workflow: Workflow): string[] =>
  Object.values(workflow.jobs ?? {}).flatMap((job) => (job.steps ?? []).flatMap((step) => step.uses ?? []));

describe.each(["ci.yml", "release.yml"])("%s", (name) => {
  const workflow = load(name);

  test("has triggers and jobs, each with runs-on and steps (or a local workflow it calls)", () => {
    expect(workflow.on).toBeDefined();
    expect(Object.keys(workflow.jobs ?? {}).length).toBeGreaterThan(0);
    for (const job of Object.values(workflow.jobs ?? {})) {
      if (job.uses !== undefined) {
        expect(existsSync(join(ROOT, job.uses)), `${name} calls ${job.uses}`).toBe(true);
        continue;
      }
      expect(job["runs-on"]).toBeDefined();
      expect(Array.isArray(job.steps) && job.steps.length > 0).toBe(true);
      for (const step of job.steps ?? []) expect(step.uses !== undefined || step.run !== undefined).toBe(true);
    }
  });

  test("checks out, sets up node 20", () => {
    expect(uses(workflow).some((u) => u.startsWith("actions/checkout@"))).toBe(true);
    const setup = Object.values(workflow.jobs ?? {})
      .flatMap((job) => job.steps ?? [])
      .find((step) => step.uses?.startsWith("actions/setup-node@"));
    expect(String(setup?.with?.["node-version"])).toBe("20");
  });

  test("every scripts/…, test/… and .ci/… path it runs exists", () => {
    const paths = runs(workflow)
      .flatMap((run) => run.match(/(?:^|[\s"'])((?:scripts|test|\.ci)\/[\w./-]+)/g) ?? [])
      .map((m) => m.trim().replace(/^["']/, ""));
    for (const path of paths)
      expect(existsSync(join(ROOT, path)), `${name} runs ${path}, which does not exist`).toBe(true);
  });

  test("every npm/bun run script it names is in package.json", () => {
    const scripts = Object.keys(pkg.scripts);
    const named = runs(workflow).flatMap((run) =>
      [...run.matchAll(/\b(?:npm|bun) run ([\w:-]+)/g)].map((m) => m[1] ?? ""),
    );
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
  // Only the job that publishes may write the repository; everything before it reads.
  expect(release.permissions?.contents).toBe("read");
  expect(release.jobs?.release?.permissions?.contents).toBe("write");
  const script = runs(release).join("\n");
  expect(script).toContain("npm ci");
  expect(script).toContain("npx bun run build:all");
  expect(script).toContain("sha256sum --check --strict SHA256SUMS");
  expect(script).toContain('gh release create "$GITHUB_REF_NAME"');
  expect(script).toContain("dist/baton-proxy-* dist/SHA256SUMS");
  expect(script).toContain(
    'npx bun scripts/homebrew.ts --sums dist/SHA256SUMS --repo "$GITHUB_REPOSITORY" --out dist/baton-proxy.rb',
  );
  expect(uses(release).some((u) => u.startsWith("actions/upload-artifact@"))).toBe(true);
});

/** The steps of one job, and the text of all its `run` scripts. */
function job(
  workflow: Workflow,
  name: string,
): { steps: Step[]; script: string; uses: string[]; raw: Job & Record<string, any> } {
  const found = workflow.jobs?.[name];
  if (found === undefined) throw new Error(`no job ${name}`);
  const steps = found.steps ?? [];
  return {
    steps,
    script: steps.flatMap((s) => s.run ?? []).join("\n"),
    uses: steps.flatMap((s) => s.uses ?? []),
    raw: found as Job & Record<string, any>,
  };
}

/** Every `uses:` names an action at a version (never a branch): owner/name@vN or @vN.N.N. */
test("every action in every workflow is pinned to a release tag", () => {
  for (const name of ["ci.yml", "release.yml"]) {
    for (const u of uses(load(name))) expect(u, `${name}: ${u}`).toMatch(/^[\w.-]+\/[\w.-]+@v\d+(\.\d+){0,2}$/);
  }
});

describe("ci.yml: container image, Helm chart, kind end to end", () => {
  const ci = load("ci.yml");

  test("image: builds the multi-arch image from build:all's binaries without pushing, then runs it hardened", () => {
    const image = job(ci, "image");
    expect(image.script).toContain("npx bun run build:all");
    const builds = image.steps.filter((s) => s.uses?.startsWith("docker/build-push-action@"));
    expect(builds.length).toBe(2);
    for (const build of builds) {
      expect(build.with?.file).toBe("deploy/container/Dockerfile");
      expect(build.with?.push ?? false).toBe(false);
    }
    expect(builds[0]?.with?.platforms).toBe("linux/amd64,linux/arm64");
    expect(image.uses.some((u) => u.startsWith("docker/setup-qemu-action@"))).toBe(true);
    expect(image.script).toContain("--read-only --cap-drop ALL");
    expect(image.script).toContain("http://127.0.0.1:9464/healthz");
    expect(image.script).toContain("http://127.0.0.1:9464/readyz");
  });

  test("helm: lint + template of every example through kubeconform -strict, on Helm 3 and Helm 4", () => {
    const helm = job(ci, "helm");
    expect((helm.raw.strategy?.matrix as { helm?: string[] } | undefined)?.helm?.map((v) => v.split(".")[0])).toEqual([
      "v3",
      "v4",
    ]);
    expect(helm.uses.some((u) => u.startsWith("azure/setup-helm@"))).toBe(true);
    expect(helm.script).toMatch(/kubeconform\/releases\/download\/v\d+\.\d+\.\d+\//);
    expect(helm.script).toContain("bash scripts/check-chart.sh");
    const check = readFileSync(join(ROOT, "scripts", "check-chart.sh"), "utf8");
    expect(check).toContain("helm lint --strict");
    expect(check).toContain("helm template");
    expect(check).toContain("-strict");
    expect(check).toContain('"$CHART"/examples/*.yaml');
  });

  test("kind-e2e: image loaded into kind, chart in gateway mode before server-everything, SDK client, events, uninstall", () => {
    const e2e = job(ci, "kind-e2e");
    expect(e2e.uses.some((u) => u.startsWith("helm/kind-action@"))).toBe(true);
    const order = [
      "docker build -f deploy/container/Dockerfile",
      "kind load docker-image baton-proxy:e2e",
      "test/fixtures/deploy/everything.yaml",
      "helm install e2e deploy/helm/baton-proxy",
      "-f deploy/helm/baton-proxy/examples/gateway.yaml",
      "kubectl -n e2e port-forward svc/e2e-baton-proxy",
      "npx bun scripts/e2e-hosted.ts client --url",
      "kubectl -n e2e logs deploy/e2e-baton-proxy",
      "npx bun scripts/e2e-hosted.ts events",
      "helm uninstall e2e",
    ];
    const positions = order.map((text) => e2e.script.indexOf(text));
    expect(
      positions.every((p) => p >= 0),
      `missing: ${order.filter((_, i) => positions[i] === -1).join(", ")}`,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(readFileSync(join(ROOT, "test", "fixtures", "deploy", "everything.yaml"), "utf8")).toContain(
      "streamableHttp",
    );
  });
});

test("release.yml: pushes the image built from the published binaries to GHCR with SBOM and provenance", () => {
  const release = load("release.yml");
  const image = job(release, "image");
  expect(image.raw.needs).toBe("release");
  expect(image.raw.permissions).toEqual({ contents: "read", packages: "write" });
  expect(image.script).toContain('gh release download "$GITHUB_REF_NAME"');
  expect(image.script).toContain("sha256sum --check --strict --ignore-missing SHA256SUMS");
  const login = image.steps.find((s) => s.uses?.startsWith("docker/login-action@"));
  expect(login?.with?.registry).toBe("ghcr.io");
  const build = image.steps.find((s) => s.uses?.startsWith("docker/build-push-action@"));
  expect(build?.with).toMatchObject({
    file: "deploy/container/Dockerfile",
    platforms: "linux/amd64,linux/arm64",
    push: true,
    sbom: true,
    provenance: "mode=max",
  });
  const meta = image.steps.find((s) => s.uses?.startsWith("docker/metadata-action@"));
  expect(String(meta?.with?.images)).toBe("ghcr.io/${{ github.repository_owner }}/baton-proxy");
  // GHCR makes a new package private: the release says so when an anonymous pull of what it pushed fails.
  const pushed = image.steps.findIndex((s) => s.uses?.startsWith("docker/build-push-action@"));
  const check = image.steps.findIndex((s) => s.name === "Check the image can be pulled without credentials");
  expect(check).toBeGreaterThan(pushed);
  expect(image.steps[check]?.run).toContain("::warning::");
});

test("release.yml publishes only a commit that passed the whole CI: ci.yml, called on the tagged commit", () => {
  // A v* tag may sit on any commit: one whose CI failed on macOS or Windows, in the image, the chart or kind,
  // or never ran (a later push to main cancels it). The release ran only .ci/run on Linux, then published.
  const ci = load("ci.yml");
  expect(Object.keys(ci.on as object)).toContain("workflow_call");
  const release = load("release.yml");
  const called = Object.entries(release.jobs ?? {}).filter(([, job]) => job.uses === "./.github/workflows/ci.yml");
  expect(called.length).toBe(1);
  const [callerName, caller] = called[0] ?? ["", {}];
  // A called workflow may only narrow the caller's token, and CI needs no more than reading.
  expect(caller.permissions).toEqual({ contents: "read" });
  const needs = (job: Job | undefined): string[] => [job?.needs ?? []].flat();
  // Everything the publishing job waits for, directly or not.
  const waitsFor = (name: string): string[] =>
    needs(release.jobs?.[name]).flatMap((needed) => [needed, ...waitsFor(needed)]);
  expect(waitsFor("release")).toContain(callerName);
  // The image is pushed from the published binaries, so after the release job (and so after CI) too.
  expect(needs(release.jobs?.image)).toContain("release");
});

test("release.yml runs each binary Linux cannot run (macOS arm64 and Intel, Windows) on its own OS before publishing", () => {
  // build:all cross-compiles them on Linux, where its smoke run can only report them "not run"; CI's macOS and
  // Windows jobs test host builds, not these files. A binary macOS refuses (its signature) or that crashes at
  // start would have been published untried.
  const release = load("release.yml");
  const smoke = release.jobs?.smoke as
    | (Job & { strategy?: { matrix?: { include?: Record<string, string>[] } } })
    | undefined;
  const rows = smoke?.strategy?.matrix?.include ?? [];
  const byAsset = new Map(rows.map((row) => [row.asset, row.os]));
  const expected: Record<string, string> = {
    "darwin-arm64": "macos-latest",
    "darwin-x64": "macos-15-intel",
    "windows-x64": "windows-latest",
  };
  for (const [suffix, os] of Object.entries(expected)) {
    expect(Object.keys(RELEASE_TARGETS)).toContain(suffix);
    const asset = `baton-proxy-${suffix}${suffix.startsWith("windows") ? ".exe" : ""}`;
    expect(byAsset.get(asset), asset).toBe(os);
  }
  expect(smoke?.["runs-on"]).toBe("${{ matrix.os }}");
  const script = (smoke?.steps ?? []).flatMap((step) => step.run ?? []).join("\n");
  expect(script).toContain('"$ASSET" --version');
  expect(script).toContain('"baton-proxy ${GITHUB_REF_NAME#v}"');
  // It runs the very files that are published: the build job's artifact, which the publishing job downloads too.
  const downloads = (name: string) =>
    (release.jobs?.[name]?.steps ?? []).filter((step) => step.uses?.startsWith("actions/download-artifact@"));
  expect(downloads("smoke").map((step) => step.with?.name)).toEqual(["release-assets"]);
  expect(downloads("release").map((step) => step.with?.name)).toEqual(["release-assets"]);
  const needs = [release.jobs?.release?.needs ?? []].flat();
  expect(needs).toContain("smoke");
});

test("release.yml leaves no token in .git/config: its jobs may write the repository or push packages", () => {
  // actions/checkout persists the job's token by default, and the release job then runs npm ci (the install
  // scripts of hundreds of dev dependencies) and the build with a token that can rewrite tags and releases.
  const release = load("release.yml");
  const checkouts = Object.values(release.jobs ?? {})
    .flatMap((job) => job.steps ?? [])
    .filter((step) => step.uses?.startsWith("actions/checkout@"));
  expect(checkouts.length).toBeGreaterThan(0);
  for (const step of checkouts) expect(step.with?.["persist-credentials"]).toBe(false);
});

test("both workflows test through .ci/run, which runs lint, typecheck and the README's test command", () => {
  expect(runs(load("ci.yml")).join("\n")).toContain("bash .ci/run");
  for (const name of ["ci.yml", "release.yml"]) {
    const script = runs(load(name)).join("\n");
    // A job that runs a subset directly (e.g. a Windows-only job) must still carry the suite's timeout.
    for (const run of script.match(/\bbun test\b[^\n]*/g) ?? []) expect(run, name).toContain("--timeout=30000");
  }
  const ciRun = readFileSync(join(ROOT, ".ci", "run"), "utf8");
  for (const step of ["npm test", "npm run typecheck", "npm run lint"]) expect(ciRun).toContain(step);
  expect(pkg.scripts.test).toBe("bun test --timeout=30000");
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  expect(readme).toContain("npm test ");
});
